import Mustache

/// The console's pages, as Mustache templates compiled into the binary (no files to ship beside
/// it). Every page fills the `layout` parent; `{{…}}` escapes HTML.
enum Templates {
    static let sources: [(name: String, text: String)] = [
        (
            "layout",
            """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{$title}}Sigil{{/title}} · Sigil console</title>
            <link rel="stylesheet" href="/console/static/console.css">
            <script src="/console/static/console.js" defer></script>
            </head>
            <body>
            <header class="bar">
              <a class="brand" href="/console">Sigil</a>
              {{#signedIn}}
              <nav aria-label="Main">
                <a href="/console/users"{{#navUsers}} aria-current="page"{{/navUsers}}>Users</a>
                <a href="/console/enterprise-applications"{{#navApps}} aria-current="page"{{/navApps}}>Enterprise applications</a>
                <a href="/console/attribute-sets"{{#navSchema}} aria-current="page"{{/navSchema}}>Custom security attributes</a>
                <a href="/console/roles"{{#navRoles}} aria-current="page"{{/navRoles}}>Roles and administrators</a>
                {{#canReadAudit}}<a href="/console/audit"{{#navAudit}} aria-current="page"{{/navAudit}}>Audit logs</a>{{/canReadAudit}}
              </nav>
              <form class="signout" method="post" action="/console/sign-out">
                <input type="hidden" name="_csrf" value="{{csrf}}">
                <span class="who">{{userName}}</span>
                <button type="submit">Sign out</button>
              </form>
              {{/signedIn}}
            </header>
            <main>
            {{$content}}{{/content}}
            </main>
            </body>
            </html>
            """
        ),
        (
            "sign-in",
            """
            {{<layout}}
            {{$title}}Sign in{{/title}}
            {{$content}}
            <section class="card narrow">
              <h1>Sign in</h1>
              <p>Use your user principal name and password. Custom security attributes need one of the attribute roles.</p>
              {{#message}}<p class="error" role="alert">{{message}}</p>{{/message}}
              <form method="post" action="/console/sign-in">
                <input type="hidden" name="_csrf" value="{{csrf}}">
                <label for="upn">User principal name</label>
                <input id="upn" name="userPrincipalName" type="email" autocomplete="username" required value="{{userPrincipalName}}">
                <label for="password">Password</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required>
                <button type="submit" class="primary">Sign in</button>
              </form>
            </section>
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "list",
            """
            {{<layout}}
            {{$title}}{{heading}}{{/title}}
            {{$content}}
            <h1>{{heading}}</h1>
            <form class="search" method="get" action="/console/{{segment}}" role="search">
              <label for="search">Search by name</label>
              <input id="search" name="search" type="search" value="{{search}}" placeholder="Starts with…">
              {{#filterAttribute}}<input type="hidden" name="attribute" value="{{filterAttribute}}">{{/filterAttribute}}
              <button type="submit">Search</button>
            </form>
            {{#canFilter}}
            <details class="card filter"{{#filterSet}} open{{/filterSet}}>
              <summary>Add filter: custom security attribute</summary>
              <form method="get" action="/console/{{segment}}">
                <input type="hidden" name="search" value="{{search}}">
                <label for="fset">Attribute set</label>
                <select id="fset" name="set">
                  <option value="">Select an attribute set</option>
                  {{#filterSets}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}</option>{{/filterSets}}
                </select>
                {{#filterSet}}
                <label for="fattr">Attribute</label>
                <select id="fattr" name="attribute">
                  <option value="">Select an attribute</option>
                  {{#filterAttributes}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/filterAttributes}}
                </select>
                {{/filterSet}}
                {{#filterAttribute}}
                <label for="fop">Operator</label>
                <select id="fop" name="op">
                  {{#filterOperators}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/filterOperators}}
                </select>
                <label for="fvalue">Value</label>
                {{#hasFilterChoices}}<select id="fvalue" name="value"><option value="">Select a value</option>
                {{#filterChoices}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}</option>{{/filterChoices}}
                </select>{{/hasFilterChoices}}
                {{#filterInput}}<input id="fvalue" name="value" type="{{type}}" value="{{value}}">{{/filterInput}}
                {{/filterAttribute}}
                {{#filterError}}<p class="error" role="alert">{{filterError}}</p>{{/filterError}}
                <p><button type="submit">{{#filterAttribute}}Apply{{/filterAttribute}}{{^filterAttribute}}Continue{{/filterAttribute}}</button>
                {{#filterActive}} <a href="/console/{{segment}}{{#search}}?search={{search}}{{/search}}">Remove filter</a>{{/filterActive}}</p>
              </form>
            </details>
            {{/canFilter}}
            {{#filterActive}}<p class="muted">Filter: {{filterActive}}</p>{{/filterActive}}
            <p class="count" aria-live="polite">{{countText}}</p>
            {{#hasRows}}
            <div class="table-wrap">
            <table>
              <thead><tr>{{#columns}}<th scope="col">{{.}}</th>{{/columns}}</tr></thead>
              <tbody>
              {{#rows}}
              <tr><td><a href="/console/{{segment}}/{{id}}">{{name}}</a></td>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>
              {{/rows}}
              </tbody>
            </table>
            </div>
            {{/hasRows}}
            {{^hasRows}}
            <p class="empty">Nothing matches{{#search}} “{{search}}”{{/search}}{{#filterActive}} and the filter{{/filterActive}}.</p>
            {{/hasRows}}
            {{#nextPage}}<p><a class="button" href="{{nextPage}}">Next page</a></p>{{/nextPage}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "object",
            """
            {{<layout}}
            {{$title}}{{name}}{{/title}}
            {{$content}}
            <p class="crumbs"><a href="/console/{{segment}}">{{heading}}</a> › {{name}}</p>
            <h1>{{name}}</h1>
            <p class="muted">{{principalName}} · Object ID {{objectId}}</p>
            <h2>Custom security attributes</h2>
            {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
            {{#canAdd}}<p><a class="button" href="{{base}}/attributes/new">Add assignment</a></p>{{/canAdd}}
            {{#hasRows}}
            <form method="post" action="{{base}}/attributes/remove">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              <div class="table-wrap">
              <table>
                <thead><tr>{{#canRemove}}<th scope="col"><span class="visually-hidden">Select</span></th>{{/canRemove}}<th scope="col">Attribute set</th><th scope="col">Attribute name</th><th scope="col">Assigned values</th>{{#canRemove}}<th scope="col"><span class="visually-hidden">Edit</span></th>{{/canRemove}}</tr></thead>
                <tbody>
                {{#rows}}
                <tr>
                  {{#canRemove}}<td>{{#canEdit}}<input type="checkbox" name="attribute" value="{{id}}" id="pick-{{id}}" aria-label="Select {{set}} {{name}}">{{/canEdit}}</td>{{/canRemove}}
                  <td>{{set}}</td><td>{{name}}</td><td>{{values}}</td>
                  {{#canRemove}}<td>{{#canEdit}}<a href="{{base}}/attributes/edit?attribute={{id}}">Edit</a>{{/canEdit}}</td>{{/canRemove}}
                </tr>
                {{/rows}}
                </tbody>
              </table>
              </div>
              {{#canRemove}}<p><button type="submit">Remove assignment</button></p>{{/canRemove}}
            </form>
            {{/hasRows}}
            {{^hasRows}}<p class="empty">{{emptyText}}</p>{{/hasRows}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "assignment",
            """
            {{<layout}}
            {{$title}}{{#editing}}Edit assignment{{/editing}}{{^editing}}Add assignment{{/editing}}{{/title}}
            {{$content}}
            <p class="crumbs"><a href="/console/{{segment}}">{{heading}}</a> › <a href="{{base}}">{{name}}</a></p>
            <h1>{{#editing}}Edit assignment{{/editing}}{{^editing}}Add assignment{{/editing}}</h1>
            {{^attribute}}
            <form method="get" action="{{base}}/attributes/new" class="card">
              <label for="set">Attribute set</label>
              <select id="set" name="set" required>
                <option value="">Select an attribute set</option>
                {{#sets}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}</option>{{/sets}}
              </select>
              {{#set}}
              <label for="attribute">Attribute name</label>
              <select id="attribute" name="attribute" required>
                <option value="">Select an attribute</option>
                {{#attributes}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/attributes}}
              </select>
              {{/set}}
              <p><button type="submit">Continue</button></p>
            </form>
            {{/attribute}}
            {{#attribute}}
            <form method="post" action="{{base}}/attributes" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              <input type="hidden" name="mode" value="{{mode}}">
              <input type="hidden" name="attribute" value="{{attribute}}">
              <p><strong>Attribute set:</strong> {{set}} · <strong>Attribute name:</strong> {{attributeName}}</p>
              <p class="muted">{{typeText}}{{#description}} · {{description}}{{/description}}</p>
              {{#error}}<p class="error" id="value-error" role="alert">{{error}}</p>{{/error}}
              {{#dropdown}}
              <label for="value">Assigned values</label>
              <select id="value" name="value"{{#error}} aria-describedby="value-error"{{/error}}>
                <option value="">Select a value</option>
                {{#choices}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}{{#inactive}} (inactive){{/inactive}}</option>{{/choices}}
              </select>
              {{/dropdown}}
              {{#checkboxes}}
              <fieldset><legend>Assigned values</legend>
                {{#choices}}<label class="check"><input type="checkbox" name="value" value="{{id}}"{{#selected}} checked{{/selected}}> {{id}}{{#inactive}} (inactive){{/inactive}}</label>{{/choices}}
              </fieldset>
              {{/checkboxes}}
              {{#inputs}}
              <fieldset{{#multiple}} data-multi{{/multiple}}><legend>Assigned values</legend>
                {{#slots}}<div class="value-row"><label class="visually-hidden" for="value-{{index}}">Value {{index}}</label><input id="value-{{index}}" name="value" type="{{type}}" value="{{value}}"{{#error}} aria-describedby="value-error"{{/error}}></div>{{/slots}}
              </fieldset>
              {{#multiple}}<p class="muted">Empty boxes are ignored; clear a box to remove its value.</p>{{/multiple}}
              {{/inputs}}
              <p><button type="submit" class="primary">Save</button> <a href="{{base}}">Cancel</a></p>
            </form>
            {{/attribute}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "sets",
            """
            {{<layout}}
            {{$title}}Custom security attributes{{/title}}
            {{$content}}
            <h1>Custom security attributes</h1>
            {{#hasSets}}
            <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">Attribute set</th><th scope="col">Description</th><th scope="col">Maximum attributes</th><th scope="col">Active attributes</th></tr></thead>
              <tbody>
              {{#sets}}<tr><td><a href="/console/attribute-sets/{{id}}">{{id}}</a></td><td>{{description}}</td><td>{{max}}</td><td>{{count}}</td></tr>{{/sets}}
              </tbody>
            </table>
            </div>
            {{/hasSets}}
            {{^hasSets}}<p class="empty">No attribute sets yet{{#canAddSet}}: add the first one below{{/canAddSet}}.</p>{{/hasSets}}
            {{#canAddSet}}
            <h2>Add attribute set</h2>
            <form method="post" action="/console/attribute-sets" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
              <label for="set-id">Name</label>
              <input id="set-id" name="id" type="text" required maxlength="32" value="{{entered.id}}" aria-describedby="set-id-hint">
              <p class="muted" id="set-id-hint">Up to 32 letters and digits, no spaces. It cannot be renamed later.</p>
              <label for="set-description">Description</label>
              <input id="set-description" name="description" type="text" maxlength="128" value="{{entered.description}}">
              <label for="set-max">Maximum number of attributes</label>
              <input id="set-max" name="maxAttributesPerSet" type="number" min="1" max="500" value="{{entered.maxAttributesPerSet}}">
              <p><button type="submit" class="primary">Add</button></p>
            </form>
            {{/canAddSet}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "set",
            """
            {{<layout}}
            {{$title}}{{set}}{{/title}}
            {{$content}}
            <p class="crumbs"><a href="/console/attribute-sets">Custom security attributes</a> › {{set}}</p>
            <h1>{{set}}</h1>
            {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
            {{#canEditSet}}
            <form method="post" action="/console/attribute-sets/{{set}}" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
              <label for="set-description">Description</label>
              <input id="set-description" name="description" type="text" maxlength="128" value="{{description}}">
              <label for="set-max">Maximum number of attributes</label>
              <input id="set-max" name="maxAttributesPerSet" type="number" min="1" max="500" value="{{max}}">
              <p><button type="submit">Save set</button></p>
            </form>
            {{/canEditSet}}
            {{^canEditSet}}<p class="muted">{{description}}{{#max}} · up to {{max}} attributes{{/max}}</p>{{/canEditSet}}
            <h2>Attributes</h2>
            {{#hasActive}}
            <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Data type</th><th scope="col">Multiple values</th><th scope="col">Predefined values only</th></tr></thead>
              <tbody>
              {{#active}}<tr><td><a href="/console/attribute-sets/{{set}}/attributes/{{name}}">{{name}}</a></td><td>{{description}}</td><td>{{type}}</td><td>{{multiple}}</td><td>{{predefined}}</td></tr>{{/active}}
              </tbody>
            </table>
            </div>
            {{/hasActive}}
            {{^hasActive}}<p class="empty">No active attributes in this set.</p>{{/hasActive}}
            {{#hasDeactivated}}
            <h2>Deactivated attributes</h2>
            <ul>{{#deactivated}}<li><a href="/console/attribute-sets/{{set}}/attributes/{{name}}">{{name}}</a> ({{type}})</li>{{/deactivated}}</ul>
            {{/hasDeactivated}}
            {{#canAddAttribute}}
            <h2>Add attribute</h2>
            <form method="post" action="/console/attribute-sets/{{set}}/attributes" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              {{#attributeError}}<p class="error" role="alert">{{attributeError}}</p>{{/attributeError}}
              <label for="attr-name">Attribute name</label>
              <input id="attr-name" name="name" type="text" required maxlength="32" value="{{entered.name}}">
              <label for="attr-description">Description</label>
              <input id="attr-description" name="description" type="text" maxlength="128" value="{{entered.description}}">
              <label for="attr-type">Data type</label>
              <select id="attr-type" name="type">{{#types}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}</option>{{/types}}</select>
              <label for="attr-multi">Allow multiple values to be assigned</label>
              <select id="attr-multi" name="isCollection"><option value="false">No</option><option value="true">Yes</option></select>
              <label for="attr-predefined">Only allow predefined values to be assigned</label>
              <select id="attr-predefined" name="usePreDefinedValuesOnly"><option value="false">No</option><option value="true">Yes</option></select>
              <label for="attr-values">Predefined values (one per line, all active)</label>
              <textarea id="attr-values" name="allowedValues" rows="3">{{entered.allowedValues}}</textarea>
              <p><button type="submit" class="primary">Add attribute</button></p>
            </form>
            {{/canAddAttribute}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "attribute",
            """
            {{<layout}}
            {{$title}}{{set}} {{name}}{{/title}}
            {{$content}}
            <p class="crumbs"><a href="/console/attribute-sets">Custom security attributes</a> › <a href="/console/attribute-sets/{{set}}">{{set}}</a> › {{name}}</p>
            <h1>{{name}}{{^active}} (deactivated){{/active}}</h1>
            <p class="muted">{{type}} · multiple values: {{multiple}}</p>
            {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
            {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
            {{#canEdit}}
            <form method="post" action="/console/attribute-sets/{{set}}/attributes/{{name}}" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              <input type="hidden" name="action" value="edit">
              <label for="attr-description">Description</label>
              <input id="attr-description" name="description" type="text" maxlength="128" value="{{description}}">
              {{#predefinedOnly}}
              <label for="attr-predefined">Only allow predefined values to be assigned</label>
              <select id="attr-predefined" name="usePreDefinedValuesOnly"><option value="true">Yes</option><option value="false">No (cannot be turned back on)</option></select>
              {{/predefinedOnly}}
              <p><button type="submit">Save attribute</button></p>
            </form>
            {{/canEdit}}
            {{^canEdit}}<p>{{description}}</p>{{/canEdit}}
            <h2>Predefined values</h2>
            {{#hasAllowedValues}}
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Value</th><th scope="col">Is active?</th>{{#canEdit}}<th scope="col"><span class="visually-hidden">Change</span></th>{{/canEdit}}</tr></thead>
              <tbody>
              {{#allowedValues}}
              <tr><td>{{id}}</td><td>{{#isActive}}Yes{{/isActive}}{{^isActive}}No{{/isActive}}</td>
              {{#canEdit}}<td><form method="post" action="/console/attribute-sets/{{set}}/attributes/{{name}}">
                <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="action" value="toggleValue">
                <input type="hidden" name="value" value="{{id}}">
                {{#isActive}}<input type="hidden" name="isActive" value="false"><button type="submit">Deactivate {{id}}</button>{{/isActive}}
                {{^isActive}}<input type="hidden" name="isActive" value="true"><button type="submit">Activate {{id}}</button>{{/isActive}}
              </form></td>{{/canEdit}}</tr>
              {{/allowedValues}}
              </tbody>
            </table></div>
            {{/hasAllowedValues}}
            {{^hasAllowedValues}}<p class="empty">No predefined values.</p>{{/hasAllowedValues}}
            {{#canEdit}}
            <form method="post" action="/console/attribute-sets/{{set}}/attributes/{{name}}" class="search">
              <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="action" value="addValue">
              <label for="new-value">Add value</label>
              <input id="new-value" name="value" type="text" maxlength="64" required>
              <button type="submit">Add value</button>
            </form>
            <h2>Status</h2>
            {{#active}}
            {{^confirmDeactivate}}<p><a class="button" href="?deactivate=1">Deactivate attribute</a></p>{{/confirmDeactivate}}
            {{#confirmDeactivate}}
            <form method="post" action="/console/attribute-sets/{{set}}/attributes/{{name}}" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="action" value="deactivate">
              <p>Deactivate {{name}}? It can no longer be assigned to more objects; assigned values stay.</p>
              <p><button type="submit" class="primary">Yes, deactivate</button> <a href="/console/attribute-sets/{{set}}/attributes/{{name}}">No</a></p>
            </form>
            {{/confirmDeactivate}}
            {{/active}}
            {{^active}}
            <form method="post" action="/console/attribute-sets/{{set}}/attributes/{{name}}">
              <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="action" value="reactivate">
              <p>Deactivated. <button type="submit">Reactivate attribute</button></p>
            </form>
            {{/active}}
            {{/canEdit}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "roles",
            """
            {{<layout}}
            {{$title}}Roles and administrators{{/title}}
            {{$content}}
            <h1>Roles and administrators</h1>
            <p class="muted">The attribute roles, at tenant scope or for one attribute set. Global Administrator holds none of them.</p>
            {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
            {{#hasRows}}
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Assigned to</th><th scope="col">Role</th><th scope="col">Scope</th>{{#canManage}}<th scope="col"><span class="visually-hidden">Remove</span></th>{{/canManage}}</tr></thead>
              <tbody>
              {{#rows}}
              <tr><td>{{principal}} <span class="muted">{{signIn}}</span></td><td>{{role}}</td><td>{{scope}}</td>
              {{#canManage}}<td><form method="post" action="/console/roles/remove"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="id" value="{{id}}"><button type="submit" aria-label="Remove {{role}} from {{principal}}">Remove</button></form></td>{{/canManage}}</tr>
              {{/rows}}
              </tbody>
            </table></div>
            {{/hasRows}}
            {{^hasRows}}<p class="empty">Nobody holds an attribute role yet.</p>{{/hasRows}}
            {{#canManage}}
            <h2>Add assignment</h2>
            <form method="post" action="/console/roles" class="card">
              <input type="hidden" name="_csrf" value="{{csrf}}">
              {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
              <label for="principal">User principal name, or application ID</label>
              <input id="principal" name="principal" type="text" required value="{{entered.principal}}">
              <label for="role">Role</label>
              <select id="role" name="role">{{#roles}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/roles}}</select>
              <label for="scope">Scope</label>
              <select id="scope" name="scope">{{#scopes}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/scopes}}</select>
              <p><button type="submit" class="primary">Assign</button></p>
            </form>
            {{/canManage}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "audit",
            """
            {{<layout}}
            {{$title}}Audit logs{{/title}}
            {{$content}}
            <h1>Audit logs: custom security attributes</h1>
            <form method="get" action="/console/audit" class="search">
              <div><label for="from">From</label><input id="from" name="from" type="date" value="{{from}}"></div>
              <div><label for="to">To</label><input id="to" name="to" type="date" value="{{to}}"></div>
              <div><label for="activity">Activity</label>
              <select id="activity" name="activity"><option value="">All activities</option>
              {{#activities}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/activities}}</select></div>
              <div><label class="check"><input type="checkbox" name="result" value="failure"{{#failuresOnly}} checked{{/failuresOnly}}> Failures only</label></div>
              <button type="submit">Apply</button>
            </form>
            {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
            {{#hasRows}}
            <div class="table-wrap"><table>
              <thead><tr><th scope="col">Date (UTC)</th><th scope="col">Activity</th><th scope="col">Initiated by</th><th scope="col">Target</th><th scope="col">Changes</th><th scope="col">Result</th></tr></thead>
              <tbody>
              {{#rows}}
              <tr><td>{{time}}</td><td>{{activity}}</td><td>{{who}}</td><td>{{target}}</td>
              <td>{{#changes}}<div><strong>{{name}}</strong>: {{old}} → {{new}}</div>{{/changes}}</td>
              <td>{{result}}{{#failed}}<div class="muted">{{reason}}</div>{{/failed}}</td></tr>
              {{/rows}}
              </tbody>
            </table></div>
            {{/hasRows}}
            {{^hasRows}}<p class="empty">No audit records match.</p>{{/hasRows}}
            {{#nextPage}}<p><a class="button" href="{{nextPage}}">Next page</a></p>{{/nextPage}}
            {{/content}}
            {{/layout}}
            """
        ),
        (
            "problem",
            """
            {{<layout}}
            {{$title}}{{heading}}{{/title}}
            {{$content}}
            <section class="card narrow">
              <h1>{{heading}}</h1>
              <p>{{message}}</p>
              <p><a href="/console">Back to the console</a></p>
            </section>
            {{/content}}
            {{/layout}}
            """
        ),
    ]

    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in sources {
            library.register(try MustacheTemplate(string: text), named: name)
        }
        return library
    }

    /// Small progressive enhancement: "Add another value" and "Remove" on multi-value editors.
    static let script = """
        document.querySelectorAll("[data-multi]").forEach(function (set) {
          function removable(row) {
            var button = document.createElement("button");
            button.type = "button"; button.textContent = "Remove";
            button.addEventListener("click", function () { row.remove(); });
            row.appendChild(button);
          }
          set.querySelectorAll(".value-row").forEach(removable);
          var add = document.createElement("button");
          add.type = "button"; add.textContent = "Add another value";
          add.addEventListener("click", function () {
            var rows = set.querySelectorAll(".value-row");
            var row = rows[rows.length - 1].cloneNode(true);
            var input = row.querySelector("input");
            var n = rows.length + 1;
            input.value = ""; input.id = "value-" + n;
            row.querySelector("label").htmlFor = input.id; row.querySelector("label").textContent = "Value " + n;
            row.querySelector("button").remove(); removable(row);
            set.insertBefore(row, add); input.focus();
          });
          set.appendChild(add);
        });
        """

    static let stylesheet = """
        :root { --ink: #1b1f24; --muted: #5b6470; --line: #d9dee5; --accent: #0a5bd3; --error: #b3261e; --bg: #f6f7f9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
        .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
        nav { display: flex; gap: .8rem; flex: 1; }
        nav a { color: var(--accent); text-decoration: none; padding: .2rem 0; }
        nav a[aria-current=page] { border-bottom: 2px solid var(--accent); }
        .signout { display: flex; align-items: center; gap: .5rem; margin-left: auto; }
        .who { color: var(--muted); }
        main { max-width: 1100px; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1.2rem; }
        .narrow { max-width: 420px; margin: 2rem auto; }
        label { display: block; font-weight: 600; margin: .8rem 0 .25rem; }
        input[type=email], input[type=password], input[type=search], input[type=text], input[type=number], input[type=date], select, textarea { width: 100%; padding: .45rem .5rem; border: 1px solid #aab3bf; border-radius: 4px; font: inherit; }
        button, .button { display: inline-block; padding: .45rem .9rem; border: 1px solid #aab3bf; border-radius: 4px; background: #fff; color: var(--ink); font: inherit; cursor: pointer; text-decoration: none; }
        button.primary { background: var(--accent); border-color: var(--accent); color: #fff; margin-top: 1rem; }
        :focus-visible { outline: 3px solid #7aa7ff; outline-offset: 1px; }
        .search { display: flex; flex-wrap: wrap; align-items: end; gap: .5rem; margin-top: .8rem; }
        .search label { width: 100%; margin: 0; }
        .search input { flex: 1; min-width: 12rem; width: auto; }
        .count, .empty, .who { color: var(--muted); }
        .error { color: var(--error); font-weight: 600; }
        .table-wrap { position: relative; overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: .5rem .7rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
        th { font-size: .85rem; color: var(--muted); font-weight: 600; }
        h2 { font-size: 1.1rem; margin: 1.4rem 0 .6rem; }
        main p, main h1, legend { overflow-wrap: anywhere; }
        .crumbs, .muted { color: var(--muted); }
        .notice { color: #0b6b2f; font-weight: 600; }
        fieldset { border: 1px solid var(--line); border-radius: 4px; margin: .8rem 0; }
        label.check { font-weight: 400; margin: .3rem 0; }
        .value-row { display: flex; gap: .4rem; margin: .3rem 0; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        @media (max-width: 600px) { main { padding: .6rem; } th, td { padding: .45rem; } .bar { gap: .5rem; } }
        """
}
