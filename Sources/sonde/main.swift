import SondeKit
