// The `sonde` executable: everything happens in the command layer.
import Foundation
import SondeCommands

exit(await SondeMain.run(arguments: Array(CommandLine.arguments.dropFirst())))
