import Testing
@testable import SondeSupport
@testable import SondeProbe
@testable import SondeScript
@testable import SondeRun
@testable import SondeStore
@testable import SondeSLO
@testable import SondeIncidents
@testable import SondeAlerts
@testable import SondeRender
@testable import SondeServe
@testable import SondeDemoShop
@testable import SondeDaemon
@testable import SondeCommands

@Suite("Value typing")
struct ValueTests {
    @Test("an integer equals a float of the same value, but not a string")
    func integerEqualsFloat() {
        #expect(Value.integer(5) == Value.float(5.0))
        #expect(Value.string("1") != Value.integer(1))
        #expect(Value.bool(true) != Value.string("true"))
    }
}
