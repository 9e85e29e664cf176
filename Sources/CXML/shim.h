/* libxml2, the library FoundationXML is built on: sonde calls its XPath 1.0 engine directly,
   because FoundationXML's nodes(forXPath:) gives node sets only (no string(), count(), boolean()). */
#include <libxml/xmlversion.h>
/* libxml2's ICU headers would clash with Foundation's own ICU; sonde hands libxml2 UTF-8 only. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlerror.h>

/* xmlFree is a global function pointer, which Swift 6 sees as shared mutable state. */
static inline void sonde_xml_free(void *pointer) { xmlFree(pointer); }
