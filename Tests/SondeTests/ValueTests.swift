import Testing

@testable import SondeAlerts
@testable import SondeCommands
@testable import SondeDaemon
@testable import SondeDemoShop
@testable import SondeIncidents
@testable import SondeProbe
@testable import SondeRender
@testable import SondeRun
@testable import SondeSLO
@testable import SondeScript
@testable import SondeServe
@testable import SondeStore
@testable import SondeSupport

@Suite("Value typing")
struct ValueTests {
    @Test("an integer equals a float of the same value, but not a string")
    func integerEqualsFloat() {
        #expect(Value.integer(5) == Value.float(5.0))
        #expect(Value.string("1") != Value.integer(1))
        #expect(Value.bool(true) != Value.string("true"))
    }
}
