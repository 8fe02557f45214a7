import Hummingbird
import NIOCore

/// The OpenAPI 3.1 document of Sigil's HTTP API (every route but the web console), served at
/// `GET /openapi.yaml`. It lives in Swift rather than a resource bundle so the binary keeps working
/// wherever it is moved. `OpenAPITests` checks that its paths and the router's routes agree, both ways.
enum OpenAPIDocument {
    static let yaml = #"""
        openapi: 3.1.0
        info:
          title: Sigil
          version: '1.0'
          summary: Microsoft Entra custom security attributes behind a Microsoft Graph-compatible API.
          description: |
            The HTTP surface of a Sigil server: an Entra-shaped token endpoint, the Graph routes under `/v1.0`
            and `/beta` (the audit log and the attribute history on `/beta` only), and the operations routes.
            The web console under `/console` is not described here.

            Graph routes need `Authorization: Bearer <access token>`; tokens come from the token endpoint.
            Request bodies are JSON objects of at most 1 MiB. Every response carries `request-id` and
            `client-request-id` headers (the request's own `client-request-id`, up to 128 characters, is
            echoed); every Graph failure is the error envelope `GraphError`. OData
            annotations (`@odata.*`, `@microsoft.graph.*`) are accepted in every JSON body; any other property
            the resource does not declare is refused with 400, and so is a request whose body, query options or
            token form hold the character U+0000. Query option names match case-insensitively,
            with or without `$`; an unknown `$` option is 400, an unknown option without `$` is ignored.
            An unknown path is 400 `Request_BadRequest` (`Resource not found for the segment '…'.`), as in Graph.
            Path parameters are percent-decoded once (`chandra%40sigil.local`, `New%20York`); `%2F` is a slash
            inside the segment and `+` a plus. A malformed escape, bytes that are not UTF-8 or `%00` are 400.
            When the database does not answer, any route that needs it answers 503 `serviceNotAvailable` with
            `Retry-After: 2` and changes nothing.

            Three answers can come from any route and are not repeated under each operation: 431
            `Request_HeadersTooLarge` (headers over 32 KiB in all), 504 `Request_Timeout` (the request ran past
            the server's `--request-timeout` and was cancelled) and, on Graph routes when the server runs with
            `--rate-limit`, 429 `TooManyRequests` with a `Retry-After` header in seconds.

            Length limits count characters as a reader sees them (extended grapheme clusters). JSON Schema's
            `maxLength` counts code points, so a string with combining marks may be longer in code points
            than the `maxLength` given here and still be accepted.
        servers:
          - url: /
        security:
          - bearerAuth: []
        tags:
          - name: identity
            description: Token endpoint, OpenID configuration and signing keys (no token needed).
          - name: operations
            description: Liveness, readiness, metrics and this document (no token needed).
          - name: attributeConfiguration
            description: Attribute sets, custom security attribute definitions and their predefined values.
          - name: directoryObjects
            description: Users, service principals and applications, and their custom security attribute values.
          - name: roleManagement
            description: Directory role definitions and role assignments.
          - name: auditLogs
            description: The custom security attribute audit log and per-object attribute history (beta only).

        paths:
          # ---------------------------------------------------------------- identity
          /{tenant}/oauth2/v2.0/token:
            parameters:
              - $ref: '#/components/parameters/tenant'
            post:
              tags: [identity]
              operationId: requestToken
              summary: OAuth 2.0 token endpoint (client credentials or password grant)
              security: []
              requestBody:
                required: true
                content:
                  application/x-www-form-urlencoded:
                    schema:
                      $ref: '#/components/schemas/TokenRequest'
              responses:
                '200':
                  description: An access token (an ES256-signed JWT, 3599 s).
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/TokenResponse'
                '400':
                  description: >-
                    OAuth error: `invalid_request` (missing parameter, body not form-encoded), `invalid_tenant`,
                    `invalid_scope`, `invalid_grant`, `unsupported_grant_type`, `unauthorized_client`, `invalid_client`
                    (no service principal).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/OAuthError'
                '401':
                  description: OAuth error `invalid_client` (wrong or expired client secret).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/OAuthError'
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '503':
                  $ref: '#/components/responses/ServiceUnavailable'
          /{tenant}/v2.0/.well-known/openid-configuration:
            parameters:
              - $ref: '#/components/parameters/tenant'
            get:
              tags: [identity]
              operationId: getOpenIdConfiguration
              summary: OpenID Connect discovery document
              security: []
              responses:
                '200':
                  description: Issuer, token endpoint and JWKS URI.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/OpenIdConfiguration'
                '400':
                  $ref: '#/components/responses/InvalidTenant'
          /{tenant}/discovery/v2.0/keys:
            parameters:
              - $ref: '#/components/parameters/tenant'
            get:
              tags: [identity]
              operationId: getSigningKeys
              summary: The public keys that verify Sigil's access tokens (JWKS)
              security: []
              responses:
                '200':
                  description: A JSON Web Key Set.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/JsonWebKeySet'
                '400':
                  $ref: '#/components/responses/InvalidTenant'

          # ---------------------------------------------------------------- operations
          /health/live:
            get:
              tags: [operations]
              operationId: getLiveness
              summary: Liveness probe (the process answers)
              security: []
              responses:
                '200':
                  description: The server is running.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/HealthStatus'
          /health/ready:
            get:
              tags: [operations]
              operationId: getReadiness
              summary: Readiness probe (the store answers)
              security: []
              responses:
                '200':
                  description: The store answers; the server can take requests.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/HealthStatus'
                '503':
                  $ref: '#/components/responses/ServiceUnavailable'
          /metrics:
            get:
              tags: [operations]
              operationId: getMetrics
              summary: Metrics in the Prometheus text exposition format
              security: []
              responses:
                '200':
                  description: Prometheus text exposition (version 0.0.4).
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    text/plain:
                      schema:
                        type: string
          /openapi.yaml:
            get:
              tags: [operations]
              operationId: getOpenApiDocument
              summary: This document
              security: []
              responses:
                '200':
                  description: The OpenAPI document of the server's API.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/yaml:
                      schema:
                        type: object
                        required: [openapi, info, paths]

          # ---------------------------------------------------------------- attribute sets
          /{version}/directory/attributeSets:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [attributeConfiguration]
              operationId: listAttributeSets
              summary: List attribute sets
              description: >-
                Any attribute definition or assignment role; a set-scoped role holder sees only its sets.
                `@odata.count` is returned with `$count=true` and `ConsistencyLevel: eventual`.
              parameters:
                - $ref: '#/components/parameters/select'
                - $ref: '#/components/parameters/top'
                - $ref: '#/components/parameters/count'
                - $ref: '#/components/parameters/skiptoken'
                - name: $orderby
                  in: query
                  description: '`id`, `id asc` or `id desc` (case-insensitive).'
                  schema:
                    type: string
                  example: id desc
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200':
                  description: A page of attribute sets.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AttributeSetCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [attributeConfiguration]
              operationId: createAttributeSet
              summary: Create an attribute set
              description: Attribute Definition Administrator at tenant scope. A duplicate id (case-insensitive) is 400.
              requestBody:
                $ref: '#/components/requestBodies/AttributeSetCreate'
              responses:
                '201':
                  description: The new attribute set.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AttributeSet'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/directory/attributeSets/{set}:
            parameters:
              - $ref: '#/components/parameters/version'
              - name: set
                in: path
                required: true
                description: The attribute set's id (case-insensitive).
                schema:
                  type: string
                  minLength: 1
                example: Engineering
            get:
              tags: [attributeConfiguration]
              operationId: getAttributeSet
              summary: Get an attribute set
              parameters:
                - $ref: '#/components/parameters/select'
              responses:
                '200':
                  description: The attribute set.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AttributeSet'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [attributeConfiguration]
              operationId: updateAttributeSet
              summary: Update an attribute set's description or maxAttributesPerSet
              description: Attribute Definition Administrator at tenant scope.
              requestBody:
                $ref: '#/components/requestBodies/AttributeSetUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [attributeConfiguration]
              operationId: deleteAttributeSet
              summary: Not supported (attribute sets cannot be deleted)
              responses:
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '405': {$ref: '#/components/responses/MethodNotAllowed'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

          # ---------------------------------------------------------------- definitions
          /{version}/directory/customSecurityAttributeDefinitions:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [attributeConfiguration]
              operationId: listCustomSecurityAttributeDefinitions
              summary: List custom security attribute definitions
              description: Any attribute definition or assignment role, per attribute set.
              parameters:
                - name: $filter
                  in: query
                  description: >-
                    `eq` on `attributeSet`, `name`, `id`, `status`, `type`, `isCollection`, `isSearchable`,
                    `usePreDefinedValuesOnly`, joined by `and`.
                  schema:
                    type: string
                  example: attributeSet eq 'Engineering' and isCollection eq true
                - $ref: '#/components/parameters/select'
                - $ref: '#/components/parameters/top'
                - $ref: '#/components/parameters/count'
                - $ref: '#/components/parameters/skiptoken'
                - $ref: '#/components/parameters/expandAllowedValues'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200':
                  description: A page of definitions.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeDefinitionCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [attributeConfiguration]
              operationId: createCustomSecurityAttributeDefinition
              summary: Create a custom security attribute definition (predefined values may be sent inline)
              description: Attribute Definition Administrator for the tenant or the attribute set.
              requestBody:
                $ref: '#/components/requestBodies/DefinitionCreate'
              responses:
                '201':
                  description: The new definition (without its allowed values).
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeDefinition'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/directory/customSecurityAttributeDefinitions/{definition}:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/definition'
            get:
              tags: [attributeConfiguration]
              operationId: getCustomSecurityAttributeDefinition
              summary: Get a custom security attribute definition
              parameters:
                - $ref: '#/components/parameters/select'
                - $ref: '#/components/parameters/expandAllowedValues'
              responses:
                '200':
                  description: The definition.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeDefinition'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [attributeConfiguration]
              operationId: updateCustomSecurityAttributeDefinition
              summary: Update a definition (description, status, usePreDefinedValuesOnly, allowedValues@delta)
              description: >-
                Attribute Definition Administrator for the tenant or the attribute set. `allowedValues@delta`
                adds or updates predefined values and needs the header `OData-Version: 4.01`.
              parameters:
                - name: OData-Version
                  in: header
                  description: '`4.01` is required when the body has `allowedValues@delta`.'
                  schema:
                    type: string
                  example: '4.01'
              requestBody:
                $ref: '#/components/requestBodies/DefinitionUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [attributeConfiguration]
              operationId: deleteCustomSecurityAttributeDefinition
              summary: Not supported (deactivate a definition with status Deprecated instead)
              responses:
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '405': {$ref: '#/components/responses/MethodNotAllowed'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/directory/customSecurityAttributeDefinitions/{definition}/allowedValues:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/definition'
            get:
              tags: [attributeConfiguration]
              operationId: listAllowedValues
              summary: List a definition's predefined values
              description: Any attribute definition or assignment role for the definition's attribute set.
              parameters:
                - $ref: '#/components/parameters/select'
                - $ref: '#/components/parameters/top'
                - $ref: '#/components/parameters/count'
                - $ref: '#/components/parameters/skiptoken'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200':
                  description: A page of predefined values.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AllowedValueCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [attributeConfiguration]
              operationId: createAllowedValue
              summary: Add a predefined value
              description: Attribute Definition Administrator for the tenant or the attribute set.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/AllowedValueCreate'
              responses:
                '201':
                  description: The new predefined value.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AllowedValue'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/directory/customSecurityAttributeDefinitions/{definition}/allowedValues/{value}:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/definition'
              - name: value
                in: path
                required: true
                description: The predefined value (case-sensitive).
                schema:
                  type: string
                  minLength: 1
                example: Alpine
            get:
              tags: [attributeConfiguration]
              operationId: getAllowedValue
              summary: Get a predefined value
              description: Attribute Definition Reader or Administrator for the tenant or the attribute set.
              parameters:
                - $ref: '#/components/parameters/select'
              responses:
                '200':
                  description: The predefined value.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AllowedValue'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [attributeConfiguration]
              operationId: updateAllowedValue
              summary: Activate or deactivate a predefined value
              description: Attribute Definition Administrator for the tenant or the attribute set.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/AllowedValueUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [attributeConfiguration]
              operationId: deleteAllowedValue
              summary: Not supported (deactivate the value with isActive false instead)
              responses:
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '405': {$ref: '#/components/responses/MethodNotAllowed'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

          # ---------------------------------------------------------------- users
          /{version}/users:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: listUsers
              summary: List users
              description: >-
                Any member user or service principal. `customSecurityAttributes` is returned only when named in
                `$select`. A `$filter` on custom security attributes is an advanced query: it needs `$count=true`
                and `ConsistencyLevel: eventual`.
              parameters:
                - $ref: '#/components/parameters/selectUser'
                - $ref: '#/components/parameters/filterDirectory'
                - $ref: '#/components/parameters/top'
                - $ref: '#/components/parameters/count'
                - $ref: '#/components/parameters/orderbyDirectory'
                - $ref: '#/components/parameters/skiptoken'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200':
                  description: A page of users.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/UserCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [directoryObjects]
              operationId: createUser
              summary: Create a user
              description: >-
                Global Administrator or User Administrator; `customSecurityAttributes` in the body also needs
                Attribute Assignment Administrator for each set named.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/UserCreate'
              responses:
                '201':
                  description: The new user.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/User'
                  links:
                    AssignAttributeReader:
                      operationId: createRoleAssignment
                      description: Makes the new user an Attribute Assignment Reader.
                      parameters:
                        path.version: $request.path.version
                      requestBody:
                        principalId: $response.body#/id
                        roleDefinitionId: ffd52fa5-98dc-465c-991d-fc073eb59f8f
                        directoryScopeId: /
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/users/$count:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: countUsers
              summary: Count users (needs ConsistencyLevel eventual)
              parameters:
                - $ref: '#/components/parameters/filterDirectory'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200': {$ref: '#/components/responses/Count'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/users/{id}:
            parameters:
              - $ref: '#/components/parameters/version'
              - name: id
                in: path
                required: true
                description: The user's object id or userPrincipalName.
                schema:
                  type: string
                  minLength: 1
                example: chandra@sigil.local
            get:
              tags: [directoryObjects]
              operationId: getUser
              summary: Get a user
              description: Any member user or service principal; a guest only itself.
              parameters:
                - $ref: '#/components/parameters/selectUser'
              responses:
                '200':
                  description: The user.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/User'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [directoryObjects]
              operationId: updateUser
              summary: Update a user's properties or custom security attribute values
              description: >-
                Ordinary properties need Global Administrator or User Administrator; `customSecurityAttributes`
                needs Attribute Assignment Administrator for each set named. All or nothing.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/UserUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [directoryObjects]
              operationId: deleteUser
              summary: Delete a user
              description: Global Administrator or User Administrator.
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/me:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: getMe
              summary: The signed-in user (user tokens only)
              parameters:
                - $ref: '#/components/parameters/selectUser'
              responses:
                '200':
                  description: The signed-in user.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/User'
                '400':
                  $ref: '#/components/responses/BadRequest'
                '401': {$ref: '#/components/responses/Unauthorized'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [directoryObjects]
              operationId: updateMe
              summary: Update the signed-in user (user tokens only)
              description: >-
                The same update, with the same rules, as `PATCH /users/{id}` on the caller's own id; nobody
                changes their own `customSecurityAttributes`. An application token is answered 400
                (`/me request is only valid with delegated authentication flow.`).
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/UserUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

          # ---------------------------------------------------------------- service principals
          /{version}/servicePrincipals:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: listServicePrincipals
              summary: List service principals
              description: >-
                Any member user or service principal. `customSecurityAttributes` is returned only when named in
                `$select`. A `$filter` on custom security attributes needs `$count=true` and `ConsistencyLevel: eventual`.
              parameters:
                - $ref: '#/components/parameters/selectServicePrincipal'
                - $ref: '#/components/parameters/filterDirectory'
                - $ref: '#/components/parameters/top'
                - $ref: '#/components/parameters/count'
                - $ref: '#/components/parameters/orderbyDirectory'
                - $ref: '#/components/parameters/skiptoken'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200':
                  description: A page of service principals.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ServicePrincipalCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [directoryObjects]
              operationId: createServicePrincipal
              summary: Create the service principal of an application
              description: Global Administrator.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/ServicePrincipalCreate'
              responses:
                '201':
                  description: The new service principal.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ServicePrincipal'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/servicePrincipals/$count:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: countServicePrincipals
              summary: Count service principals (needs ConsistencyLevel eventual)
              parameters:
                - $ref: '#/components/parameters/filterDirectory'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200': {$ref: '#/components/responses/Count'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/servicePrincipals/{id}:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/objectId'
            get:
              tags: [directoryObjects]
              operationId: getServicePrincipal
              summary: Get a service principal
              parameters:
                - $ref: '#/components/parameters/selectServicePrincipal'
              responses:
                '200':
                  description: The service principal.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ServicePrincipal'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [directoryObjects]
              operationId: updateServicePrincipal
              summary: Update a service principal's properties or custom security attribute values
              description: >-
                Ordinary properties need Global Administrator; `customSecurityAttributes` needs Attribute
                Assignment Administrator for each set named. All or nothing.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/ServicePrincipalUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [directoryObjects]
              operationId: deleteServicePrincipal
              summary: Delete a service principal
              description: Global Administrator.
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

          # ---------------------------------------------------------------- applications
          /{version}/applications:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: listApplications
              summary: List applications
              description: Any member user or service principal.
              parameters:
                - $ref: '#/components/parameters/selectApplication'
                - $ref: '#/components/parameters/filterDirectory'
                - $ref: '#/components/parameters/top'
                - $ref: '#/components/parameters/count'
                - $ref: '#/components/parameters/orderbyDirectory'
                - $ref: '#/components/parameters/skiptoken'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200':
                  description: A page of applications.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ApplicationCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [directoryObjects]
              operationId: createApplication
              summary: Create an application
              description: Global Administrator.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/ApplicationCreate'
              responses:
                '201':
                  description: The new application.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Application'
                  links:
                    CreateServicePrincipal:
                      operationId: createServicePrincipal
                      description: The application's service principal, which its tokens and role assignments need.
                      parameters:
                        path.version: $request.path.version
                      requestBody:
                        appId: $response.body#/appId
                    AddPassword:
                      operationId: addApplicationPassword
                      parameters:
                        path.version: $request.path.version
                        path.id: $response.body#/id
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/applications/$count:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [directoryObjects]
              operationId: countApplications
              summary: Count applications (needs ConsistencyLevel eventual)
              parameters:
                - $ref: '#/components/parameters/filterDirectory'
                - $ref: '#/components/parameters/consistencyLevelHeader'
                - $ref: '#/components/parameters/consistencyLevelQuery'
              responses:
                '200': {$ref: '#/components/responses/Count'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/applications/{id}:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/objectId'
            get:
              tags: [directoryObjects]
              operationId: getApplication
              summary: Get an application
              parameters:
                - $ref: '#/components/parameters/selectApplication'
              responses:
                '200':
                  description: The application.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Application'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            patch:
              tags: [directoryObjects]
              operationId: updateApplication
              summary: Update an application
              description: Global Administrator.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/ApplicationUpdate'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [directoryObjects]
              operationId: deleteApplication
              summary: Delete an application (and its service principal)
              description: Global Administrator.
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/applications/{id}/addPassword:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/objectId'
            post:
              tags: [directoryObjects]
              operationId: addApplicationPassword
              summary: Add a client secret to an application (the secret text is returned once)
              description: Global Administrator.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/AddPasswordRequest'
              responses:
                '200':
                  description: The new password credential, with `secretText`.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/PasswordCredential'
                  links:
                    RemovePassword:
                      operationId: removeApplicationPassword
                      parameters:
                        path.version: $request.path.version
                        path.id: $request.path.id
                      requestBody:
                        keyId: $response.body#/keyId
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/applications/{id}/removePassword:
            parameters:
              - $ref: '#/components/parameters/version'
              - $ref: '#/components/parameters/objectId'
            post:
              tags: [directoryObjects]
              operationId: removeApplicationPassword
              summary: Remove a client secret from an application
              description: Global Administrator.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/RemovePasswordRequest'
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

          # ---------------------------------------------------------------- roles
          /{version}/roleManagement/directory/roleDefinitions:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [roleManagement]
              operationId: listRoleDefinitions
              summary: List the built-in directory roles Sigil knows
              description: Any member user or service principal.
              responses:
                '200':
                  description: Every role definition (one page).
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/RoleDefinitionCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/roleManagement/directory/roleDefinitions/{id}:
            parameters:
              - $ref: '#/components/parameters/version'
              - name: id
                in: path
                required: true
                description: The role's template id.
                schema:
                  type: string
                  minLength: 1
                example: 8424c6f0-a189-499e-bbd0-26c1753c96d4
            get:
              tags: [roleManagement]
              operationId: getRoleDefinition
              summary: Get a role definition
              responses:
                '200':
                  description: The role definition.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/RoleDefinition'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/roleManagement/directory/roleAssignments:
            parameters:
              - $ref: '#/components/parameters/version'
            get:
              tags: [roleManagement]
              operationId: listRoleAssignments
              summary: List role assignments
              description: Any member user or service principal.
              parameters:
                - name: $filter
                  in: query
                  description: '`eq` on `principalId`, `roleDefinitionId` and `directoryScopeId`, joined by `and`.'
                  schema:
                    type: string
                  example: principalId eq '00000000-0000-0000-0000-000000000000'
              responses:
                '200':
                  description: Every matching role assignment (one page).
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/RoleAssignmentCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            post:
              tags: [roleManagement]
              operationId: createRoleAssignment
              summary: Assign a directory role at tenant scope or to an attribute set
              description: Global Administrator or Privileged Role Administrator. A duplicate assignment is 400.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/RoleAssignmentCreate'
              responses:
                '201':
                  description: The new role assignment.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/RoleAssignment'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '413': {$ref: '#/components/responses/PayloadTooLarge'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /{version}/roleManagement/directory/roleAssignments/{id}:
            parameters:
              - $ref: '#/components/parameters/version'
              - name: id
                in: path
                required: true
                description: The role assignment's id.
                schema:
                  type: string
                  minLength: 1
            get:
              tags: [roleManagement]
              operationId: getRoleAssignment
              summary: Get a role assignment
              responses:
                '200':
                  description: The role assignment.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/RoleAssignment'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
            delete:
              tags: [roleManagement]
              operationId: deleteRoleAssignment
              summary: Remove a role assignment
              description: Global Administrator or Privileged Role Administrator.
              responses:
                '204': {$ref: '#/components/responses/NoContent'}
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

          # ---------------------------------------------------------------- audit (beta only)
          /beta/auditLogs/customSecurityAttributeAudits:
            get:
              tags: [auditLogs]
              operationId: listCustomSecurityAttributeAudits
              summary: List custom security attribute audit records (beta only)
              description: >-
                Attribute Log Reader or Administrator at tenant scope; everyone else, Global Administrator
                included, gets 403. Newest first by default.
              parameters:
                - name: $filter
                  in: query
                  description: >-
                    Clauses joined by `and`: `activityDateTime eq|ge|le <date-time>`, `activityDisplayName eq '…'`,
                    `startswith(activityDisplayName,'…')`, `initiatedBy/user/id eq '…'`, `initiatedBy/app/appId eq '…'`,
                    `targetResources/any(t: t/id eq '…')`, `result eq 'success'|'failure'`.
                  schema:
                    type: string
                  example: result eq 'failure'
                - name: $orderby
                  in: query
                  description: '`activityDateTime desc` (the default) or `activityDateTime asc`.'
                  schema:
                    type: string
                  example: activityDateTime asc
                - $ref: '#/components/parameters/auditTop'
                - $ref: '#/components/parameters/skiptoken'
              responses:
                '200':
                  description: A page of audit records.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeAuditCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /beta/auditLogs/customSecurityAttributeAudits/{id}:
            parameters:
              - name: id
                in: path
                required: true
                description: The audit record's id.
                schema:
                  type: string
                  minLength: 1
            get:
              tags: [auditLogs]
              operationId: getCustomSecurityAttributeAudit
              summary: Get one audit record (beta only; takes no query options)
              responses:
                '200':
                  description: The audit record.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeAudit'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /beta/users/{id}/customSecurityAttributeHistory:
            parameters:
              - $ref: '#/components/parameters/objectId'
            get:
              tags: [auditLogs]
              operationId: getUserCustomSecurityAttributeHistory
              summary: A user's attribute value changes, newest first (Sigil extension, beta only)
              description: >-
                Attribute Assignment Reader or Administrator; each record shows only the attributes of sets the
                caller may read, and changes that touched none of them are left out. Nobody reads their own history.
              parameters:
                - $ref: '#/components/parameters/auditTop'
                - $ref: '#/components/parameters/skiptoken'
              responses:
                '200':
                  description: A page of audit records about the user.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeAuditCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}
          /beta/servicePrincipals/{id}/customSecurityAttributeHistory:
            parameters:
              - $ref: '#/components/parameters/objectId'
            get:
              tags: [auditLogs]
              operationId: getServicePrincipalCustomSecurityAttributeHistory
              summary: A service principal's attribute value changes, newest first (Sigil extension, beta only)
              description: As the users' history.
              parameters:
                - $ref: '#/components/parameters/auditTop'
                - $ref: '#/components/parameters/skiptoken'
              responses:
                '200':
                  description: A page of audit records about the service principal.
                  headers:
                    request-id: {$ref: '#/components/headers/request-id'}
                    client-request-id: {$ref: '#/components/headers/client-request-id'}
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/CustomSecurityAttributeAuditCollection'
                '400': {$ref: '#/components/responses/BadRequest'}
                '401': {$ref: '#/components/responses/Unauthorized'}
                '403': {$ref: '#/components/responses/Forbidden'}
                '404': {$ref: '#/components/responses/NotFound'}
                '503': {$ref: '#/components/responses/ServiceUnavailable'}

        components:
          securitySchemes:
            bearerAuth:
              type: http
              scheme: bearer
              bearerFormat: JWT
              description: An access token from `POST /{tenant}/oauth2/v2.0/token` (ES256-signed JWT).

          headers:
            request-id:
              description: The id Sigil gave this request (also in `error.innerError`).
              schema:
                type: string
            client-request-id:
              description: The request's `client-request-id` header when it sent one, else the request-id.
              schema:
                type: string
            Retry-After:
              description: Seconds to wait before retrying.
              schema:
                type: integer

          parameters:
            version:
              name: version
              in: path
              required: true
              description: The Graph API version; both serve the same shapes.
              schema:
                type: string
                enum: [v1.0, beta]
            tenant:
              name: tenant
              in: path
              required: true
              description: The tenant id, or `organizations`.
              schema:
                type: string
                minLength: 1
              example: organizations
            definition:
              name: definition
              in: path
              required: true
              description: The definition's id, `{attributeSet}_{name}` (case-insensitive).
              schema:
                type: string
                minLength: 1
              example: Engineering_Project
            objectId:
              name: id
              in: path
              required: true
              description: The object id.
              schema:
                type: string
                minLength: 1
            select:
              name: $select
              in: query
              description: Comma-separated property names (case-insensitive); only these are returned.
              schema:
                type: string
              example: id
            selectUser:
              name: $select
              in: query
              description: >-
                Comma-separated user property names (case-insensitive); `customSecurityAttributes` is returned only
                when named here.
              schema:
                type: string
              example: id,displayName,customSecurityAttributes
            selectServicePrincipal:
              name: $select
              in: query
              description: >-
                Comma-separated service principal property names (case-insensitive); `customSecurityAttributes` is
                returned only when named here.
              schema:
                type: string
              example: id,appId,displayName,customSecurityAttributes
            selectApplication:
              name: $select
              in: query
              description: Comma-separated application property names (case-insensitive).
              schema:
                type: string
              example: id,appId,displayName
            filterDirectory:
              name: $filter
              in: query
              description: >-
                OData filter. Custom security attributes: `customSecurityAttributes/{Set}/{Attribute}` with `eq`,
                `ne`, `not(…)`, `startsWith(…,'prefix')`, `and`, `or` and parentheses (advanced query: needs
                `$count=true` and `ConsistencyLevel: eventual`). Ordinary properties: `eq` and `startsWith`
                (`ne` and `not` need the advanced-query parameters). At most 32 levels of `and`, `or`, `not` and
                parentheses.
              schema:
                type: string
              example: startsWith(displayName,'J')
            orderbyDirectory:
              name: $orderby
              in: query
              description: >-
                `displayName`, `displayName asc` or `displayName desc` (case-insensitive). With `$filter` it needs
                `$count=true` and `ConsistencyLevel: eventual`.
              schema:
                type: string
              example: displayName desc
            top:
              name: $top
              in: query
              description: Page size (default 100).
              schema:
                type: integer
                minimum: 1
                maximum: 999
            auditTop:
              name: $top
              in: query
              description: Page size (default and maximum 100).
              schema:
                type: integer
                minimum: 1
                maximum: 100
            count:
              name: $count
              in: query
              description: 'With `ConsistencyLevel: eventual`, adds `@odata.count` to the first page.'
              schema:
                type: boolean
            skiptoken:
              name: $skiptoken
              in: query
              description: Opaque page cursor from an `@odata.nextLink`; bound to the query it came from.
              schema:
                type: string
            expandAllowedValues:
              name: $expand
              in: query
              description: '`allowedValues` (the only expansion).'
              schema:
                type: string
              example: allowedValues
            consistencyLevelHeader:
              name: ConsistencyLevel
              in: header
              description: '`eventual` enables advanced queries (`$count`, filters on custom security attributes, `ne`, `not`).'
              schema:
                type: string
              example: eventual
            consistencyLevelQuery:
              name: ConsistencyLevel
              in: query
              description: The same as the `ConsistencyLevel` header, as a query parameter.
              schema:
                type: string
              example: eventual

          requestBodies:
            AttributeSetCreate:
              required: true
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/AttributeSetCreate'
            AttributeSetUpdate:
              required: true
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/AttributeSetUpdate'
            DefinitionCreate:
              required: true
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/CustomSecurityAttributeDefinitionCreate'
            DefinitionUpdate:
              required: true
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/CustomSecurityAttributeDefinitionUpdate'

          responses:
            NoContent:
              description: Done; no body.
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
            Count:
              description: The number of matching objects, as plain text.
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                text/plain:
                  schema:
                    type: string
                    pattern: '^[0-9]+$'
                  example: '7'
            BadRequest:
              description: >-
                Invalid body, property, query option or filter (`Request_BadRequest`, `Request_UnsupportedQuery`), or a
                path that names no route, such as a version other than `v1.0` and `beta` (`Request_BadRequest`,
                `Resource not found for the segment '…'.`).
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            Unauthorized:
              description: Missing, malformed, expired or revoked access token (`InvalidAuthenticationToken`).
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            Forbidden:
              description: The caller's roles do not allow this (`Authorization_RequestDenied`).
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            NotFound:
              description: No such object (`Request_ResourceNotFound`).
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            MethodNotAllowed:
              description: '`Request_BadRequest`, `Specified HTTP method is not allowed for the request uri.`'
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            PayloadTooLarge:
              description: The request body is over the limit (`Request_EntityTooLarge`).
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            ServiceUnavailable:
              description: The database did not answer (`serviceNotAvailable`); nothing changed. Retry after the given delay.
              headers:
                Retry-After: {$ref: '#/components/headers/Retry-After'}
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/GraphError'
            InvalidTenant:
              description: OAuth error `invalid_tenant` (the path names another tenant).
              headers:
                request-id: {$ref: '#/components/headers/request-id'}
                client-request-id: {$ref: '#/components/headers/client-request-id'}
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/OAuthError'

          schemas:
            # -------------------------------------------------------------- envelopes
            GraphError:
              description: Graph's error envelope.
              type: object
              required: [error]
              properties:
                error:
                  type: object
                  required: [code, message, innerError]
                  properties:
                    code:
                      type: string
                      examples: [Request_BadRequest]
                    message:
                      type: string
                    innerError:
                      type: object
                      required: [date, request-id, client-request-id]
                      properties:
                        date:
                          type: string
                          description: UTC, second precision, without a zone suffix.
                          examples: ['2026-11-30T08:00:00']
                        request-id:
                          type: string
                        client-request-id:
                          type: string
            ODataCollection:
              description: A page of a collection. `@odata.count` only on the first page of an advanced query.
              type: object
              required: ['@odata.context', value]
              properties:
                '@odata.context':
                  type: string
                '@odata.count':
                  type: integer
                  minimum: 0
                '@odata.nextLink':
                  type: string
                  description: The next page's URL (with an opaque `$skiptoken`); absent on the last page.
                value:
                  type: array
            ODataContext:
              type: string
              description: '`{origin}/{version}/$metadata#{fragment}`'
            OAuthError:
              description: An OAuth 2.0 error, as Entra's token endpoint writes it.
              type: object
              required: [error, error_description]
              properties:
                error:
                  type: string
                  examples: [invalid_client]
                error_description:
                  type: string
                error_codes:
                  type: array
                  items:
                    type: integer
                timestamp:
                  type: string
            ODataAnnotation:
              description: An OData instance annotation; Sigil accepts and ignores these in request bodies.

            # -------------------------------------------------------------- identity
            TokenRequest:
              type: object
              required: [grant_type, client_id, scope]
              properties:
                grant_type:
                  type: string
                  enum: [client_credentials, password]
                client_id:
                  type: string
                  minLength: 1
                  description: The application's appId.
                client_secret:
                  type: string
                  description: Required with `client_credentials`.
                scope:
                  type: string
                  minLength: 1
                  description: >-
                    `https://graph.microsoft.com/.default` for client credentials; Graph scopes (and `openid`,
                    `profile`, `offline_access`, `email`) for the password grant.
                  examples: [https://graph.microsoft.com/.default]
                username:
                  type: string
                  description: The user's userPrincipalName (password grant).
                password:
                  type: string
                  description: The user's password (password grant).
            TokenResponse:
              type: object
              required: [token_type, expires_in, ext_expires_in, access_token]
              properties:
                token_type:
                  type: string
                  const: Bearer
                scope:
                  type: string
                  description: The scopes asked for (password grant only).
                expires_in:
                  type: integer
                ext_expires_in:
                  type: integer
                access_token:
                  type: string
            OpenIdConfiguration:
              type: object
              required: [issuer, token_endpoint, jwks_uri]
              properties:
                issuer:
                  type: string
                token_endpoint:
                  type: string
                authorization_endpoint:
                  type: string
                  description: Advertised because MSAL requires it; Sigil has no interactive sign-in.
                jwks_uri:
                  type: string
                token_endpoint_auth_methods_supported:
                  type: array
                  items: {type: string}
                grant_types_supported:
                  type: array
                  items: {type: string}
                response_types_supported:
                  type: array
                  items: {type: string}
                subject_types_supported:
                  type: array
                  items: {type: string}
                id_token_signing_alg_values_supported:
                  type: array
                  items: {type: string}
                scopes_supported:
                  type: array
                  items: {type: string}
                tenant_region_scope:
                  type: ['string', 'null']
                cloud_instance_name:
                  type: string
            JsonWebKeySet:
              type: object
              required: [keys]
              properties:
                keys:
                  type: array
                  items:
                    type: object
                    required: [kty]
                    properties:
                      kty: {type: string}
                      use: {type: string}
                      kid: {type: string}
                      alg: {type: string}
                      crv: {type: string}
                      x: {type: string}
                      y: {type: string}
            HealthStatus:
              type: object
              required: [status]
              properties:
                status:
                  type: string
                  enum: [ok, ready]

            # -------------------------------------------------------------- attribute configuration
            AttributeSet:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id:
                  type: string
                description:
                  type: ['string', 'null']
                maxAttributesPerSet:
                  type: ['integer', 'null']
            AttributeSetCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/AttributeSet'}
            AttributeSetCreate:
              type: object
              required: [id]
              examples:
                - id: Finance
                  description: Attributes for the finance team
                  maxAttributesPerSet: 10
              properties:
                id:
                  type: string
                  description: >-
                    1–32 characters: letters and digits, not starting with a digit; unique in the tenant
                    (case-insensitive).
                  minLength: 1
                  examples: [Finance]
                description:
                  type: ['string', 'null']
                  description: At most 128 characters.
                maxAttributesPerSet:
                  type: ['integer', 'null']
                  minimum: 1
                  maximum: 500
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            AttributeSetUpdate:
              type: object
              properties:
                description:
                  type: ['string', 'null']
                  description: At most 128 characters.
                maxAttributesPerSet:
                  type: ['integer', 'null']
                  minimum: 1
                  maximum: 500
                  description: Not lower than the number of definitions the set already has.
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            GraphBoolean:
              description: A Boolean; Graph's own examples send the strings `"true"` and `"false"`, which are accepted too.
              enum: [true, false, 'true', 'false', 'True', 'False']
            CustomSecurityAttributeDefinition:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                attributeSet:
                  type: string
                description:
                  type: ['string', 'null']
                id:
                  type: string
                  description: '`{attributeSet}_{name}`'
                isCollection:
                  type: boolean
                isSearchable:
                  type: boolean
                name:
                  type: string
                status:
                  type: string
                  enum: [Available, Deprecated]
                type:
                  type: string
                  enum: [String, Integer, Boolean]
                usePreDefinedValuesOnly:
                  type: boolean
                allowedValues:
                  description: Present with `$expand=allowedValues`.
                  type: array
                  items: {$ref: '#/components/schemas/AllowedValue'}
            CustomSecurityAttributeDefinitionCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/CustomSecurityAttributeDefinition'}
            CustomSecurityAttributeDefinitionCreate:
              type: object
              required: [attributeSet, name, type, isCollection, isSearchable, status, usePreDefinedValuesOnly]
              examples:
                - attributeSet: Engineering
                  description: Office building
                  isCollection: false
                  isSearchable: true
                  name: Building
                  status: Available
                  type: String
                  usePreDefinedValuesOnly: true
                  allowedValues:
                    - id: North
                      isActive: true
                    - id: South
                      isActive: true
              properties:
                attributeSet:
                  type: string
                  description: An existing attribute set.
                  examples: [Engineering]
                name:
                  type: string
                  description: 1–32 characters, letters and digits, not starting with a digit; unique in the set.
                  minLength: 1
                  examples: [Building]
                description:
                  type: ['string', 'null']
                  description: At most 128 characters.
                type:
                  type: string
                  enum: [String, Integer, Boolean]
                isCollection:
                  $ref: '#/components/schemas/GraphBoolean'
                isSearchable:
                  $ref: '#/components/schemas/GraphBoolean'
                status:
                  type: string
                  enum: [Available, Deprecated]
                usePreDefinedValuesOnly:
                  $ref: '#/components/schemas/GraphBoolean'
                allowedValues:
                  type: ['array', 'null']
                  description: Predefined values created with the definition (not for Boolean attributes).
                  items: {$ref: '#/components/schemas/AllowedValueCreate'}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            CustomSecurityAttributeDefinitionUpdate:
              type: object
              properties:
                description:
                  type: ['string', 'null']
                  description: At most 128 characters.
                status:
                  type: string
                  enum: [Available, Deprecated]
                usePreDefinedValuesOnly:
                  description: May change from true to false only.
                  $ref: '#/components/schemas/GraphBoolean'
                allowedValues@delta:
                  type: array
                  description: 'Predefined values to add or update; needs the header `OData-Version: 4.01`.'
                  items: {$ref: '#/components/schemas/AllowedValueCreate'}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            AllowedValue:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id:
                  type: string
                isActive:
                  type: boolean
            AllowedValueCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/AllowedValue'}
            AllowedValueCreate:
              type: object
              required: [id, isActive]
              examples:
                - id: Denali
                  isActive: true
              properties:
                id:
                  type: string
                  description: 1–64 characters, no control characters, no leading or trailing space (case-sensitive).
                  minLength: 1
                  examples: [Alpine]
                isActive:
                  $ref: '#/components/schemas/GraphBoolean'
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            AllowedValueUpdate:
              type: object
              properties:
                isActive:
                  $ref: '#/components/schemas/GraphBoolean'
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false

            # -------------------------------------------------------------- custom security attribute values
            CustomSecurityAttributeValues:
              description: >-
                Attribute values by attribute set. Each set is an object annotated with
                `"@odata.type": "#Microsoft.DirectoryServices.CustomSecurityAttributeValue"`; its members are the
                attributes (a string, an integer, a Boolean, or an array of strings or integers), optionally
                annotated with `{Attribute}@odata.type` (`#Int32`, `#Collection(String)`, `#Collection(Int32)`).
              type: object
              additionalProperties:
                $ref: '#/components/schemas/CustomSecurityAttributeSetValues'
            CustomSecurityAttributeSetValues:
              type: object
              required: ['@odata.type']
              properties:
                '@odata.type':
                  type: string
                  examples: ['#Microsoft.DirectoryServices.CustomSecurityAttributeValue']
              additionalProperties: true
            CustomSecurityAttributeValuesWrite:
              description: >-
                Values to set by attribute set, as `CustomSecurityAttributeValues`; an attribute set to `null` (or
                a collection set to `[]`) is removed. Neither the whole member nor a set may be `null`. Checked
                against the definitions (type, predefined values, status, limits); each set needs Attribute
                Assignment Administrator for it.
              type: object
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties:
                $ref: '#/components/schemas/CustomSecurityAttributeSetValues'

            # -------------------------------------------------------------- users
            User:
              type: object
              description: >-
                A user. Without `$select`: id, businessPhones, displayName, givenName, jobTitle, mail, mobilePhone,
                officeLocation, preferredLanguage, surname, userPrincipalName.
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id: {type: string}
                accountEnabled: {type: ['boolean', 'null']}
                businessPhones: {$ref: '#/components/schemas/NullableStrings'}
                city: {type: ['string', 'null']}
                companyName: {type: ['string', 'null']}
                country: {type: ['string', 'null']}
                createdDateTime: {type: ['string', 'null']}
                department: {type: ['string', 'null']}
                displayName: {type: ['string', 'null']}
                employeeId: {type: ['string', 'null']}
                givenName: {type: ['string', 'null']}
                jobTitle: {type: ['string', 'null']}
                mail: {type: ['string', 'null']}
                mailNickname: {type: ['string', 'null']}
                mobilePhone: {type: ['string', 'null']}
                officeLocation: {type: ['string', 'null']}
                postalCode: {type: ['string', 'null']}
                preferredLanguage: {type: ['string', 'null']}
                state: {type: ['string', 'null']}
                streetAddress: {type: ['string', 'null']}
                surname: {type: ['string', 'null']}
                usageLocation: {type: ['string', 'null']}
                userPrincipalName: {type: ['string', 'null']}
                userType: {type: ['string', 'null']}
                customSecurityAttributes:
                  description: '`null` when nothing is assigned or the caller may not read it (nobody reads their own).'
                  anyOf:
                    - $ref: '#/components/schemas/CustomSecurityAttributeValues'
                    - type: 'null'
            UserCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/User'}
            NullableStrings:
              type: ['array', 'null']
              items: {type: string}
            PasswordProfile:
              type: object
              required: [password]
              properties:
                password:
                  type: string
                  minLength: 8
                  maxLength: 256
                forceChangePasswordNextSignIn:
                  anyOf:
                    - $ref: '#/components/schemas/GraphBoolean'
                    - type: 'null'
                forceChangePasswordNextSignInWithMfa:
                  anyOf:
                    - $ref: '#/components/schemas/GraphBoolean'
                    - type: 'null'
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            UserUpdate:
              type: object
              examples:
                - customSecurityAttributes:
                    Engineering:
                      '@odata.type': '#Microsoft.DirectoryServices.CustomSecurityAttributeValue'
                      Project@odata.type: '#Collection(String)'
                      Project: [Baker, Cascade]
                      NumVendors@odata.type: '#Int32'
                      NumVendors: 4
                      ProjectDate: '2024-11-15'
                      Certification: true
                - jobTitle: Engineer
                  department: Research
              description: >-
                String lengths count characters. `userPrincipalName` is alias@domain; `mailNickname` has no spaces or
                `@()\[]";:<>,`; `displayName` is not blank. Read-only properties (`createdDateTime`) are refused.
              properties:
                accountEnabled: {type: boolean}
                businessPhones:
                  type: ['array', 'null']
                  items: {type: string, maxLength: 64}
                city: {type: ['string', 'null'], maxLength: 128}
                companyName: {type: ['string', 'null'], maxLength: 64}
                country: {type: ['string', 'null'], maxLength: 128}
                department: {type: ['string', 'null'], maxLength: 64}
                displayName: {type: string, maxLength: 256}
                employeeId: {type: ['string', 'null'], maxLength: 16}
                givenName: {type: ['string', 'null'], maxLength: 64}
                jobTitle: {type: ['string', 'null'], maxLength: 128}
                mail: {type: ['string', 'null'], maxLength: 256}
                mailNickname: {type: string, minLength: 1, maxLength: 64}
                mobilePhone: {type: ['string', 'null'], maxLength: 64}
                officeLocation: {type: ['string', 'null'], maxLength: 128}
                postalCode: {type: ['string', 'null'], maxLength: 40}
                preferredLanguage: {type: ['string', 'null'], maxLength: 16}
                state: {type: ['string', 'null'], maxLength: 128}
                streetAddress: {type: ['string', 'null'], maxLength: 1024}
                surname: {type: ['string', 'null'], maxLength: 64}
                usageLocation: {type: ['string', 'null'], maxLength: 2}
                userPrincipalName: {type: string, maxLength: 113}
                userType:
                  enum: [Member, Guest, null]
                passwordProfile: {$ref: '#/components/schemas/PasswordProfile'}
                customSecurityAttributes: {$ref: '#/components/schemas/CustomSecurityAttributeValuesWrite'}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            UserCreate:
              allOf:
                - $ref: '#/components/schemas/UserUpdate'
              required: [accountEnabled, displayName, mailNickname, userPrincipalName, passwordProfile]
              examples:
                - accountEnabled: true
                  displayName: Adele Vance
                  mailNickname: adelev
                  userPrincipalName: adele.vance@sigil.local
                  passwordProfile:
                    password: Adele-Vance-2026!

            # -------------------------------------------------------------- service principals
            ServicePrincipal:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id: {type: string}
                accountEnabled: {type: ['boolean', 'null']}
                appDisplayName: {type: ['string', 'null']}
                appId: {type: ['string', 'null']}
                appOwnerOrganizationId: {type: ['string', 'null']}
                description: {type: ['string', 'null']}
                displayName: {type: ['string', 'null']}
                notes: {type: ['string', 'null']}
                servicePrincipalNames: {$ref: '#/components/schemas/NullableStrings'}
                servicePrincipalType: {type: ['string', 'null']}
                tags: {$ref: '#/components/schemas/NullableStrings'}
                customSecurityAttributes:
                  description: '`null` when nothing is assigned or the caller may not read it (nobody reads their own).'
                  anyOf:
                    - $ref: '#/components/schemas/CustomSecurityAttributeValues'
                    - type: 'null'
            ServicePrincipalCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/ServicePrincipal'}
            ServicePrincipalUpdate:
              type: object
              examples:
                - customSecurityAttributes:
                    Marketing:
                      '@odata.type': '#Microsoft.DirectoryServices.CustomSecurityAttributeValue'
                      EmployeeId: APP-7
                      AppCountry@odata.type: '#Collection(String)'
                      AppCountry: [Canada, Mexico]
              description: String lengths count characters; read-only and create-only properties are refused.
              properties:
                accountEnabled: {type: ['boolean', 'null']}
                description: {type: ['string', 'null'], maxLength: 1024}
                displayName: {type: ['string', 'null'], maxLength: 256}
                notes: {type: ['string', 'null'], maxLength: 1024}
                tags:
                  type: ['array', 'null']
                  items: {type: string, maxLength: 256}
                customSecurityAttributes: {$ref: '#/components/schemas/CustomSecurityAttributeValuesWrite'}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            ServicePrincipalCreate:
              type: object
              description: String lengths count characters; read-only properties are refused.
              required: [appId]
              properties:
                appId:
                  type: string
                  maxLength: 36
                  description: The appId of an existing application.
                accountEnabled: {type: ['boolean', 'null']}
                description: {type: ['string', 'null'], maxLength: 1024}
                displayName:
                  type: ['string', 'null']
                  maxLength: 256
                  description: Defaults to the application's displayName.
                notes: {type: ['string', 'null'], maxLength: 1024}
                tags:
                  type: ['array', 'null']
                  items: {type: string, maxLength: 256}
                customSecurityAttributes: {$ref: '#/components/schemas/CustomSecurityAttributeValuesWrite'}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false

            # -------------------------------------------------------------- applications
            Application:
              type: object
              description: >-
                An application. Without `$select`: every property below, `passwordCredentials` included (secret
                texts are never returned here).
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id: {type: string}
                appId: {type: ['string', 'null']}
                createdDateTime: {type: ['string', 'null']}
                description: {type: ['string', 'null']}
                displayName: {type: ['string', 'null']}
                identifierUris: {$ref: '#/components/schemas/NullableStrings'}
                notes: {type: ['string', 'null']}
                publisherDomain: {type: ['string', 'null']}
                signInAudience: {type: ['string', 'null']}
                tags: {$ref: '#/components/schemas/NullableStrings'}
                passwordCredentials:
                  type: array
                  items: {$ref: '#/components/schemas/PasswordCredential'}
            ApplicationCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/Application'}
            ApplicationUpdate:
              type: object
              description: String lengths count characters; read-only properties (appId, createdDateTime, publisherDomain) are refused.
              properties:
                description: {type: ['string', 'null'], maxLength: 1024}
                displayName: {type: string, maxLength: 256}
                identifierUris:
                  type: ['array', 'null']
                  items: {type: string, maxLength: 256}
                notes: {type: ['string', 'null'], maxLength: 1024}
                signInAudience:
                  enum: [AzureADMyOrg, AzureADMultipleOrgs, AzureADandPersonalMicrosoftAccount, PersonalMicrosoftAccount, null]
                tags:
                  type: ['array', 'null']
                  items: {type: string, maxLength: 256}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            ApplicationCreate:
              allOf:
                - $ref: '#/components/schemas/ApplicationUpdate'
              required: [displayName]
            PasswordCredential:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                customKeyIdentifier: {type: ['string', 'null']}
                displayName: {type: ['string', 'null']}
                endDateTime: {type: string}
                hint: {type: string}
                keyId: {type: string}
                secretText:
                  type: ['string', 'null']
                  description: Only in the reply to addPassword.
                startDateTime: {type: string}
            AddPasswordRequest:
              type: object
              properties:
                passwordCredential:
                  type: ['object', 'null']
                  properties:
                    displayName: {type: ['string', 'null']}
                    endDateTime:
                      type: ['string', 'null']
                      description: An ISO 8601 date and time in the future (default two years from now).
                  patternProperties:
                    '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
                  additionalProperties: false
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false
            RemovePasswordRequest:
              type: object
              required: [keyId]
              properties:
                keyId: {type: string}
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false

            # -------------------------------------------------------------- roles
            RoleDefinition:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id: {type: string}
                description: {type: string}
                displayName: {type: string}
                isBuiltIn: {type: boolean}
                isEnabled: {type: boolean}
                templateId: {type: string}
                version: {type: string}
                rolePermissions:
                  type: array
                  items:
                    type: object
                    properties:
                      allowedResourceActions:
                        type: array
                        items: {type: string}
                      condition: {type: ['string', 'null']}
            RoleDefinitionCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/RoleDefinition'}
            RoleAssignment:
              type: object
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id: {type: string}
                principalId: {type: string}
                roleDefinitionId: {type: string}
                directoryScopeId:
                  type: string
                  description: '`/` or `/attributeSets/{name}`'
                appScopeId: {type: ['string', 'null']}
            RoleAssignmentCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/RoleAssignment'}
            RoleAssignmentCreate:
              type: object
              required: [principalId, roleDefinitionId, directoryScopeId]
              examples:
                - principalId: 00000000-0000-0000-0000-000000000000
                  roleDefinitionId: 58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d
                  directoryScopeId: /attributeSets/Engineering
              properties:
                principalId:
                  type: string
                  description: A user or service principal.
                roleDefinitionId:
                  type: string
                  description: A role template id (see roleDefinitions).
                  examples: [58a13ea3-c632-46ae-9ee0-9c0d43cd7f3d]
                directoryScopeId:
                  type: string
                  description: '`/`, or `/attributeSets/{name}` for the six attribute roles.'
                  examples: [/]
                appScopeId:
                  type: 'null'
                  description: Not supported; only `null` is accepted.
              patternProperties:
                '^@(odata|microsoft\.graph)\.': {$ref: '#/components/schemas/ODataAnnotation'}
              additionalProperties: false

            # -------------------------------------------------------------- audit
            CustomSecurityAttributeAudit:
              type: object
              description: Graph's `customSecurityAttributeAudit`.
              properties:
                '@odata.context': {$ref: '#/components/schemas/ODataContext'}
                id: {type: string}
                category:
                  type: string
                  examples: [AttributeManagement]
                correlationId:
                  type: string
                  description: The request-id of the request that made the change.
                result:
                  type: string
                  enum: [success, failure]
                resultReason:
                  type: string
                  description: The error message of a refused change; empty on success.
                activityDisplayName:
                  type: string
                  examples: [Update attribute values assigned to a user]
                activityDateTime:
                  type: string
                  description: UTC with seven fractional digits.
                loggedByService:
                  type: string
                  examples: [Core Directory]
                operationType:
                  type: string
                  examples: [Assign]
                initiatedBy:
                  type: object
                  properties:
                    user:
                      type: ['object', 'null']
                      properties:
                        id: {type: string}
                        displayName: {type: ['string', 'null']}
                        userPrincipalName: {type: ['string', 'null']}
                        ipAddress: {type: ['string', 'null']}
                    app:
                      type: ['object', 'null']
                      properties:
                        appId: {type: ['string', 'null']}
                        displayName: {type: ['string', 'null']}
                        servicePrincipalId: {type: string}
                        ipAddress: {type: ['string', 'null']}
                targetResources:
                  type: array
                  items:
                    type: object
                    properties:
                      id: {type: string}
                      displayName: {type: ['string', 'null']}
                      type:
                        type: string
                        examples: [User]
                      userPrincipalName: {type: ['string', 'null']}
                      modifiedProperties:
                        type: array
                        items:
                          type: object
                          properties:
                            displayName: {type: string}
                            oldValue:
                              type: ['string', 'null']
                              description: JSON text such as `"[25]"`.
                            newValue:
                              type: ['string', 'null']
                userAgent: {type: ['string', 'null']}
                additionalDetails:
                  type: array
                  items:
                    type: object
                    properties:
                      key: {type: string}
                      value: {type: string}
            CustomSecurityAttributeAuditCollection:
              allOf:
                - $ref: '#/components/schemas/ODataCollection'
                - properties:
                    value:
                      items: {$ref: '#/components/schemas/CustomSecurityAttributeAudit'}
        """#

    /// `GET /openapi.yaml`: the document as `application/yaml`, no token needed.
    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(string: yaml)))
    }
}
