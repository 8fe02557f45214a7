import Foundation
import Hummingbird
import HummingbirdTesting
import SigilConsole
import Testing
import Yams

@testable import SigilGraph
@testable import SigilService

/// The OpenAPI document served at `/openapi.yaml` against the router it describes.
@Suite struct OpenAPITests {
    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// The parsed document as plain YAML values.
    static func document() throws -> [String: Any] {
        guard let root = try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any] else {
            Issue.record("the document is not a YAML mapping")
            return [:]
        }
        return root
    }

    /// `METHOD /path` for every operation in the document, with `{version}` expanded to both
    /// API versions (the document uses it only where both have the route).
    static func documentedOperations() throws -> Set<String> {
        let paths = try document()["paths"] as? [String: Any] ?? [:]
        var operations: Set<String> = []
        for (path, item) in paths {
            let item = item as? [String: Any] ?? [:]
            let expanded =
                path.contains("{version}")
                ? ["v1.0", "beta"].map { path.replacingOccurrences(of: "{version}", with: $0) } : [path]
            for method in item.keys where methods.contains(method) {
                for concrete in expanded { operations.insert("\(method.uppercased()) \(concrete)") }
            }
        }
        return operations
    }

    /// `:param` (and Hummingbird's `{param}` rendering of it) as OpenAPI's `{param}`.
    static func openAPIPath(_ path: String) -> String {
        "/"
            + path.split(separator: "/").map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/")
    }

    /// `METHOD /path` for every route of the router `sigil serve` runs, the console excluded.
    static func routedOperations() async throws -> Set<String> {
        let tenant = try await TestTenant.make()
        let console = try await ConsoleController.make(services: tenant.services)
        let router = buildRouter(services: tenant.services, extensions: { console.register(on: $0) })
        var operations: Set<String> = []
        for route in router.routes {
            let path = openAPIPath(route.path.description)
            guard path != "/console", !path.hasPrefix("/console/") else { continue }
            operations.insert("\(route.method.rawValue) \(path)")
        }
        return operations
    }

    @Test func documentAndRouterHaveTheSameOperations() async throws {
        let documented = try Self.documentedOperations()
        let routed = try await Self.routedOperations()
        #expect(!routed.isEmpty)
        let undocumented = routed.subtracting(documented).sorted()
        let unrouted = documented.subtracting(routed).sorted()
        #expect(undocumented.isEmpty, "routes missing from the OpenAPI document: \(undocumented)")
        #expect(unrouted.isEmpty, "operations in the OpenAPI document that no route serves: \(unrouted)")
    }

    @Test func documentIsOpenAPIWithUniqueOperationIdsAndResolvableReferences() throws {
        let root = try Self.document()
        #expect((root["openapi"] as? String)?.hasPrefix("3.1") == true)
        var operationIds: [String] = []
        for case let item as [String: Any] in (root["paths"] as? [String: Any] ?? [:]).values {
            for (method, operation) in item where Self.methods.contains(method) {
                let id = (operation as? [String: Any])?["operationId"] as? String
                #expect(id != nil, "an operation without operationId")
                operationIds.append(id ?? "")
            }
        }
        #expect(Set(operationIds).count == operationIds.count, "duplicate operationIds")
        // Every local reference points at something.
        var references: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { references.append(reference) }
                object.values.forEach(collect)
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(root)
        #expect(!references.isEmpty)
        for reference in Set(references) {
            #expect(reference.hasPrefix("#/"), "non-local reference \(reference)")
            var node: Any? = root
            for key in reference.dropFirst(2).split(separator: "/") {
                node = (node as? [String: Any])?[String(key)]
            }
            #expect(node != nil, "unresolved reference \(reference)")
        }
    }

    @Test func documentIsServedWithoutAToken() async throws {
        let tenant = try await TestTenant.make()
        try await tenant.test { client in
            let reply = try await client.get("/openapi.yaml", token: nil)
            #expect(reply.status == .ok)
            #expect(reply.header("Content-Type") == "application/yaml")
            #expect(reply.text == OpenAPIDocument.yaml)
            #expect(reply.header("request-id") != nil)
        }
    }
}
