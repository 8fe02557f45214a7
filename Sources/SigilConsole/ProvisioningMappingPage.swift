import Foundation
import Hummingbird
import SigilCore
import SigilGraph
import SigilService

/// Provisioning mapping: which SCIM attribute matches users in a bulkUpload and which SCIM
/// attributes go to which custom security attributes. `ProvisioningMappingService` decides who
/// reads and who saves; a refusal of the saved mapping comes back next to the row it is about.
extension ConsoleController {
    func registerProvisioningMappingPage(on console: RouterGroup<GraphContext>) {
        console.get("provisioning-mapping", use: provisioningMappingPage)
        console.post("provisioning-mapping", use: saveProvisioningMapping)
    }

    var provisioningMappings: ProvisioningMappingService { ProvisioningMappingService(services: services) }

    @Sendable func provisioningMappingPage(_ request: Request, context: GraphContext) async throws -> Response {
        let signedIn = try await requireSignedIn(request)
        let mapping = try await provisioningMappings.mapping(caller: signedIn.caller)
        return mappingPage(MappingForm(mapping: mapping), signedIn, saved: Self.query(request)["saved"] != nil)
    }

    /// The page; a form with errors answers 400.
    func mappingPage(_ form: MappingForm, _ signedIn: SignedIn, saved: Bool = false) -> Response {
        var values = layout(signedIn, nav: "navProvisioning").merging(form.values) { _, new in new }
        values["canEdit"] = AccessPolicy.allows(signedIn.caller, .manageProvisioningMapping)
        if saved { values["notice"] = "Mapping saved." }
        return page("provisioning-mapping", values, status: form.errors.isEmpty ? .ok : .badRequest, cookies: [signedIn.cookie])
    }

    @Sendable func saveProvisioningMapping(_ request: Request, context: GraphContext) async throws -> Response {
        let (signedIn, fields) = try await signedInForm(request)
        var form = MappingForm(fields: fields)
        let body = form.body
        do {
            _ = try await provisioningMappings.replace(as: signedIn.initiator(request, context)) { body }
        } catch let error as GraphError where error.status == 400 {
            form.refuse(error.message)
            return mappingPage(form, signedIn)
        }
        return Self.redirect("/console/provisioning-mapping?saved=1", cookies: [signedIn.cookie])
    }
}

/// The mapping form: the matching identifier and one row per attribute mapping (blank rows to
/// add more; a row left blank is dropped), with each row's error.
struct MappingForm {
    struct Row {
        var source = ""
        var target = ""
    }

    /// Blank rows offered after the mapping's own.
    static let blankRows = 3

    var matchingIdentifier = ProvisioningMapping.MatchingIdentifier.externalId.rawValue
    var rows: [Row] = []
    /// Messages by row number (1-based); 0 is the matching identifier, -1 the whole form.
    var errors: [Int: String] = [:]

    init(mapping: ProvisioningMapping) {
        matchingIdentifier = mapping.matchingIdentifier.rawValue
        rows = mapping.attributeMappings.map { Row(source: $0.source, target: $0.target) }
    }

    init(fields: FormFields) {
        matchingIdentifier = fields.first("matchingIdentifier") ?? ""
        for number in fields.all("row") {
            let row = Row(
                source: (fields.first("source-\(number)") ?? "").trimmingCharacters(in: .whitespaces),
                target: (fields.first("target-\(number)") ?? "").trimmingCharacters(in: .whitespaces))
            rows.append(row)
        }
    }

    /// The rows that are sent, with their row numbers: blank ones are left out.
    var sent: [(number: Int, row: Row)] {
        rows.enumerated().filter { !$0.element.source.isEmpty || !$0.element.target.isEmpty }.map { ($0.offset + 1, $0.element) }
    }

    var body: JSONValue {
        var mappings: [JSONValue] = []
        for (_, row) in sent {
            var entry = JSONObject()
            if !row.source.isEmpty { entry.append("source", .string(row.source)) }
            if !row.target.isEmpty { entry.append("target", .string(row.target)) }
            mappings.append(.object(entry))
        }
        return .object(JSONObject([("matchingIdentifier", .string(matchingIdentifier)), ("attributeMappings", .array(mappings))]))
    }

    /// Puts a refusal of the service next to the row it names ("Attribute mapping 2: …", or the
    /// source or target mapped twice), else next to the identifier or at the top.
    mutating func refuse(_ message: String) {
        let sent = self.sent
        if message.hasPrefix("Attribute mapping "),
            let index = Int(message.dropFirst("Attribute mapping ".count).prefix { $0.isNumber }), sent.indices.contains(index - 1)
        {
            errors[sent[index - 1].number] = message
        } else if let twice = sent.last(where: { message.hasPrefix("Source '\($0.row.source)'") })
            ?? sent.last(where: { message.lowercased().hasPrefix("target '\($0.row.target.lowercased())'") })
        {
            errors[twice.number] = message
        } else if message.contains("matchingIdentifier") {
            errors[0] = message
        } else {
            errors[-1] = message
        }
    }

    var values: [String: Any] {
        let shown = rows + Array(repeating: Row(), count: Self.blankRows)
        var values: [String: Any] = [
            "byExternalId": matchingIdentifier == "externalId", "byUserName": matchingIdentifier == "userName",
            "rows": shown.enumerated().map { index, row -> [String: Any] in
                var out: [String: Any] = ["number": index + 1, "source": row.source, "target": row.target]
                if let error = errors[index + 1] { out["error"] = error }
                return out
            },
            "hasMappings": !rows.isEmpty, "hasErrors": !errors.isEmpty,
        ]
        if let error = errors[0] { values["identifierError"] = error }
        if let error = errors[-1] { values["formError"] = error }
        return values
    }
}
