import Testing
import HummingbirdTesting
@testable import CartServer
