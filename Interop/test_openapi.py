"""The OpenAPI document a live server serves at /openapi.yaml is a valid OpenAPI document."""
import ssl
import urllib.request

import yaml
from openapi_spec_validator import validate


class StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping key written twice (PyYAML keeps the last silently)."""


def _mapping(loader, node, deep=False):
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
    assert not duplicates, f"duplicate keys {duplicates} at line {node.start_mark.line + 1}"
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def fetch(sigil, path):
    context = ssl.create_default_context(cafile=sigil.cert)
    with urllib.request.urlopen(f"{sigil.base}{path}", context=context, timeout=30) as response:
        return response.status, response.headers, response.read().decode()


def test_served_document_is_valid_openapi(sigil):
    status, headers, text = fetch(sigil, "/openapi.yaml")
    assert status == 200
    assert headers["Content-Type"] == "application/yaml"
    assert headers["request-id"]
    document = yaml.load(text, Loader=StrictLoader)
    validate(document)  # raises OpenAPIValidationError on any violation
    assert document["openapi"].startswith("3.1")
    # No token needed; every Graph operation asks for the bearer scheme unless it opts out.
    bearer = document["components"]["securitySchemes"]["bearerAuth"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")
    assert document["security"] == [{"bearerAuth": []}]
    paths = document["paths"]
    assert "/{version}/users/{id}" in paths
    assert "/beta/auditLogs/customSecurityAttributeAudits" in paths
    assert not any(path.startswith("/console") for path in paths)
    for path in ["/{tenant}/oauth2/v2.0/token", "/openapi.yaml", "/health/live", "/health/ready", "/metrics"]:
        for operation in paths[path].values():
            if isinstance(operation, dict) and "responses" in operation:
                assert operation["security"] == [], path
