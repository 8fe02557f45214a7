import Hummingbird
import SigilService

extension SigilServices {
    /// `@odata.context`: `{base}/{version}/$metadata#{fragment}`.
    func odataContext(_ request: Request, _ fragment: String) -> String {
        "\(origin(request))/\(request.apiVersion)/$metadata#\(fragment)"
    }

    /// Scheme, host and port of the links Sigil writes.
    func origin(_ request: Request) -> String {
        publicURL ?? request.baseURL(scheme: scheme)
    }
}
