// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sonde",
    products: [
        .executable(name: "sonde", targets: ["sonde"]),
        .library(name: "SondeKit", targets: ["SondeKit"]),
    ],
    targets: [
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(
            name: "SondeKit",
            dependencies: ["CCurl"]
        ),
        .executableTarget(
            name: "sonde",
            dependencies: ["SondeKit"]
        ),
        .testTarget(
            name: "SondeKitTests",
            dependencies: ["SondeKit"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
