/// Every limit of the custom security attribute system and of the API, in one place.
public enum Limits {
    /// Attribute set and attribute names (Unicode characters).
    public static let nameLength = 32
    /// Attribute set and attribute descriptions.
    public static let descriptionLength = 128
    public static let attributeSetsPerTenant = 500
    /// Deprecated definitions do not count against this.
    public static let activeDefinitionsPerTenant = 500
    public static let allowedValuesPerDefinition = 100
    public static let allowedValueLength = 64
    /// One assigned value (String attributes).
    public static let assignedValueLength = 64
    /// Values on one object, counted across all attributes, single and multi-valued.
    public static let valuesPerObject = 50
    /// Graph does not document an upper bound; this keeps it within the tenant's own limit.
    public static let maxAttributesPerSetCeiling = 500

    public static let defaultPageSize = 100
    public static let maxPageSize = 999
    /// `$filter=id eq ... or id eq ...` on a delta query: Graph's maximum of 50 ids.
    public static let deltaFilterIds = 50
    /// Requests in one JSON batch (`$batch`): Graph's maximum.
    public static let batchRequests = 20
    /// Requests of one JSON batch running side by side. On PostgreSQL their commits share disk
    /// flushes (20 PATCHes: 1.03x → 1.56x the writes/s of 20 requests); 8 did no better than 4.
    public static let batchConcurrency = 4
    /// Audit log pages: Graph's default and maximum are both 100.
    public static let auditPageSize = 100

    /// Largest request body the API reads, in bytes.
    public static let requestBodyBytes = 1 << 20
    /// Request headers, names and values together, in bytes. SwiftNIO's parser also stops at
    /// 80 KiB; this answers a Graph error well before that.
    public static let requestHeaderBytes = 32 * 1024

    /// `$filter` text, in characters. Graph's own URLs are bounded near 2,048 characters;
    /// this leaves room for long `in`-style `or` chains without inviting huge parses.
    public static let filterLength = 4096
    /// The deepest `$filter` accepted: `and`, `or` and `not` each add a level (a chain of n
    /// clauses is n - 1 levels deep), and so does each pair of parentheses. Deeper filters are
    /// refused while parsing: they would overflow the parser's stack or the store's SQL parser
    /// (SQLite gives up near 80 levels).
    public static let filterDepth = 32
    /// A Conditional Access filter rule (`conditionalAccessFilter.rule`), in characters, as
    /// Entra documents for filters in Conditional Access.
    public static let conditionalAccessRuleLength = 3072
    /// An Azure role-assignment condition (access rules, `/sigil/v1/conditions/*`), in UTF-8
    /// bytes: Azure's limit.
    public static let conditionBytes = 8 * 1024
    /// Ids in one access rule's `principals` (Sigil's own bound; larger audiences use `all` and a
    /// condition on their attributes).
    public static let accessRulePrincipals = 100
    /// Data-action patterns in one access rule.
    public static let accessRuleActions = 50
    public static let accessRuleDescriptionLength = 1024
    /// Requests in one AuthZEN `evaluations` call.
    public static let accessEvaluations = 100
    /// The deepest condition accepted: each NOT and each pair of parentheses adds a level.
    public static let conditionDepth = 64
    /// Properties named in one `$select`.
    public static let selectProperties = 64

    /// Directory object string properties (displayName and the like).
    public static let displayNameLength = 256
    public static let userPrincipalNameLength = 113
    public static let passwordLength = 256
    public static let passwordMinimumLength = 8
    /// Client secrets an application may hold at once.
    public static let passwordCredentialsPerApplication = 20

    /// Lifetime of access tokens, in seconds, as Entra's.
    public static let accessTokenLifetime = 3599
    /// Leeway, in seconds, when checking a token's `exp` and `nbf` against the clock.
    public static let tokenClockSkew = 60
}
