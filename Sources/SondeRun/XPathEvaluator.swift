import CXML
import Foundation
import SondeScript
import SondeSupport
import Synchronization

/// XPath 1.0 over a body parsed as XML or HTML, with libxml2 (the library under FoundationXML,
/// whose own API gives node sets only). Runs on the evaluation pool like JSONPath; libxml2 counts
/// the operations of one evaluation and gives up past `operationLimit`.
///
/// Results as Hurl gives them: a string, a number (an integer when whole), a boolean, or for a node
/// set the string value of each node as a list (nil for an empty node set, so `not exists` holds).
enum XPathEvaluator {
    /// Operations one evaluation may make (libxml2's `opLimit`): tens of milliseconds.
    static let operationLimit: UInt = 20_000_000

    /// Prepares libxml2 once per process and silences its error output on the calling thread
    /// (libxml2's error handlers are per thread): a bad body or expression is reported by sonde.
    private static let prepared: Bool = {
        xmlInitParser()
        return true
    }()

    /// `expression` over `text`, parsed as HTML when `html` is true, else as XML (and as HTML when
    /// it is not well-formed XML but looks like HTML).
    static func evaluate(
        _ expression: String, in text: String, html: Bool, location: SourceLocation
    ) throws(EvalError) -> Value? {
        try evaluate(expression, in: try document(text, html: html, location: location), location: location)
    }

    /// `text` parsed for XPath queries (once per response: several queries share it).
    static func document(_ text: String, html: Bool, location: SourceLocation) throws(EvalError) -> XMLTree {
        _ = prepared
        xmlSetStructuredErrorFunc(nil, { _, _ in })
        let bytes = Array(text.utf8)
        guard let document = parse(bytes, html: html || looksLikeHTML(text)) ?? (html ? nil : parse(bytes, html: true))
        else {
            throw .filterFailed(filter: "xpath", message: "the body is not XML or HTML", location: location)
        }
        return XMLTree(document)
    }

    /// `expression` over a parsed document.
    static func evaluate(_ expression: String, in tree: XMLTree, location: SourceLocation) throws(EvalError) -> Value? {
        _ = prepared
        xmlSetStructuredErrorFunc(nil, { _, _ in })
        let document = tree.document
        guard let context = xmlXPathNewContext(document) else {
            throw .evaluationLimit(message: "xpath: no memory for the evaluation", location: location)
        }
        defer { xmlXPathFreeContext(context) }
        context.pointee.opLimit = UInt(operationLimit)
        registerNamespaces(of: document, in: context)
        guard let compiled = compiled(expression) else {
            throw .invalidXPath(expression: expression, location: location)
        }
        guard let result = compiled.evaluate(in: context) else {
            if context.pointee.opCount >= context.pointee.opLimit {
                throw .evaluationLimit(
                    message: "xpath \"\(expression)\" stopped after \(operationLimit) operations", location: location)
            }
            throw .invalidXPath(expression: expression, location: location)
        }
        defer { xmlXPathFreeObject(result) }
        switch result.pointee.type {
        case XPATH_BOOLEAN:
            return .bool(result.pointee.boolval != 0)
        case XPATH_NUMBER:
            let d = result.pointee.floatval
            if d.isFinite, d == d.rounded(), abs(d) < 9e15 { return .integer(Int64(d)) }
            return .float(d)
        case XPATH_STRING:
            return .string(result.pointee.stringval.map { String(cString: $0) } ?? "")
        case XPATH_NODESET:
            guard let set = result.pointee.nodesetval, set.pointee.nodeNr > 0, let nodes = set.pointee.nodeTab else {
                return nil
            }
            var out: [Value] = []
            for i in 0..<Int(set.pointee.nodeNr) {
                guard let node = nodes[i], let content = xmlXPathCastNodeToString(node) else { continue }
                out.append(.string(String(cString: content)))
                sonde_xml_free(content)
            }
            return .list(out)
        default:
            return nil
        }
    }

    // MARK: compiled expressions

    /// The compiled expressions, by their text, and how often each was compiled (kept for tests).
    private struct CompiledTable {
        var expressions: [String: CompiledXPath] = [:]
        var compiles: [String: Int] = [:]
    }

    private static let table = Mutex(CompiledTable())

    /// How many compiled expressions the cache keeps before it starts over.
    static let cacheLimit = 1_024

    /// `expression` compiled once and then taken from a process-wide cache: a check's expression
    /// is compiled by its first evaluation, not by each; nil when it does not compile (not cached).
    static func compiled(_ expression: String) -> CompiledXPath? {
        if let hit = table.withLock({ $0.expressions[expression] }) { return hit }
        _ = prepared
        xmlSetStructuredErrorFunc(nil, { _, _ in })
        guard let pointer = xmlXPathCompile(expression) else { return nil }
        let compiled = CompiledXPath(pointer)
        return table.withLock { table in
            if let raced = table.expressions[expression] { return raced }
            if table.expressions.count >= cacheLimit {
                table.expressions.removeAll(keepingCapacity: true)
                table.compiles.removeAll(keepingCapacity: true)
            }
            table.expressions[expression] = compiled
            table.compiles[expression, default: 0] += 1
            return compiled
        }
    }

    /// How many times `expression` was compiled since it entered the cache (0 when it is not there).
    static func compileCount(of expression: String) -> Int {
        table.withLock { $0.compiles[expression] ?? 0 }
    }

    /// Whether a text body is HTML rather than XML: a doctype `html` or an `<html` start.
    static func looksLikeHTML(_ text: String) -> Bool {
        let start = text.prefix(512).drop(while: { $0.isWhitespace }).lowercased()
        return start.hasPrefix("<!doctype html") || start.hasPrefix("<html")
    }

    /// The document, or nil when the parser gives none. Never reads the network or expands
    /// external entities.
    private static func parse(_ bytes: [UInt8], html: Bool) -> xmlDocPtr? {
        guard !bytes.isEmpty, bytes.count < Int(Int32.max) else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> xmlDocPtr? in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                if html {
                    let options = Int32(
                        HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue
                            | HTML_PARSE_RECOVER.rawValue)
                    return htmlReadMemory(pointer, Int32(buffer.count), nil, "UTF-8", options)
                }
                let options = Int32(
                    XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NONET.rawValue)
                return xmlReadMemory(pointer, Int32(buffer.count), nil, "UTF-8", options)
            }
        }
    }

    /// The namespaces declared on the root element, by their prefixes; the default one also as `_`.
    private static func registerNamespaces(of document: xmlDocPtr, in context: xmlXPathContextPtr) {
        guard let root = xmlDocGetRootElement(document) else { return }
        var ns = root.pointee.nsDef
        var defaultDone = false
        while let current = ns {
            if let href = current.pointee.href {
                if let prefix = current.pointee.prefix {
                    xmlXPathRegisterNs(context, prefix, href)
                } else if !defaultDone {
                    xmlXPathRegisterNs(context, "_", href)
                    defaultDone = true
                }
            }
            ns = current.pointee.next
        }
    }
}

/// A parsed libxml2 document, freed with its last reference. Only the evaluation thread of one
/// response's checks uses it, one query after another.
final class XMLTree: @unchecked Sendable {
    /// The document.
    let document: xmlDocPtr

    init(_ document: xmlDocPtr) { self.document = document }

    deinit { xmlFreeDoc(document) }
}

/// A compiled XPath expression (libxml2's `xmlXPathCompExpr`), freed with its last reference.
/// Evaluations of one expression take turns: libxml2 does not promise that two threads may
/// evaluate the same compiled expression at once.
final class CompiledXPath: @unchecked Sendable {
    private let expression: xmlXPathCompExprPtr
    private let lock = NSLock()

    init(_ expression: xmlXPathCompExprPtr) { self.expression = expression }

    /// The result of the expression in `context`; nil when the evaluation fails.
    func evaluate(in context: xmlXPathContextPtr) -> xmlXPathObjectPtr? {
        lock.lock()
        defer { lock.unlock() }
        return xmlXPathCompiledEval(expression, context)
    }

    deinit { xmlXPathFreeCompExpr(expression) }
}
