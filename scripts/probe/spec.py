"""The OpenAPI document as the probes use it: its operations, their parameters and request
bodies, and plausible values built from the schemas. Standard library only."""
import datetime
import re
import urllib.parse

METHODS = ("get", "post", "put", "patch", "delete")


class Op:
    """One operation: method, path template, parameters, request body schema."""

    def __init__(self, spec, path, method, item, raw):
        self.spec = spec
        self.path = path
        self.method = method.upper()
        params = list(item.get("parameters", [])) + list(raw.get("parameters", []))
        self.params = [resolve(spec, p) for p in params]
        self.path_params = re.findall(r"{([^}]+)}", path)
        body = raw.get("requestBody")
        self.body = resolve(spec, body) if body else None
        self.body_schema = None
        self.body_type = None
        if self.body:
            content = self.body.get("content", {})
            for ctype in ("application/json", *content.keys()):
                if ctype in content:
                    self.body_type = ctype
                    self.body_schema = resolve(spec, content[ctype].get("schema", {}))
                    break

    @property
    def key(self):
        return f"{self.method} {self.path}"

    def param(self, name, where=None):
        for p in self.params:
            if p.get("name") == name and (where is None or p.get("in") == where):
                return p
        return None

    def query_params(self):
        return [p for p in self.params if p.get("in") == "query"]

    def header_params(self):
        return [p for p in self.params if p.get("in") == "header"]

    def is_write(self):
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    def url(self, values, query=None):
        path = self.path
        for name in self.path_params:
            path = path.replace("{" + name + "}", urllib.parse.quote(str(values[name]), safe=""))
        if query:
            path += "?" + urllib.parse.urlencode(query)
        return path


def resolve(spec, node, depth=0):
    """Follows a $ref (once per level) to what it names."""
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        parts = node["$ref"].lstrip("#/").split("/")
        target = spec
        for p in parts:
            target = target[p]
        node = target
        depth += 1
    return node


def operations(spec):
    ops = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            if method in item:
                ops.append(Op(spec, path, method, item, item[method]))
    return ops


def schema_type(spec, schema):
    """The schema's main type, following refs and one level of allOf/oneOf/anyOf."""
    schema = resolve(spec, schema)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if t:
        return t
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key, []):
            sub = resolve(spec, sub)
            if sub.get("type") not in (None, "null"):
                return schema_type(spec, sub)
    if "properties" in schema:
        return "object"
    if "enum" in schema:
        return "string"
    return None


def merged(spec, schema):
    """An object schema's properties and required fields, allOf folded in."""
    schema = resolve(spec, schema)
    props = dict(schema.get("properties", {}))
    required = list(schema.get("required", []))
    for sub in schema.get("allOf", []):
        p, r = merged(spec, sub)
        props.update(p)
        required += r
    for key in ("oneOf", "anyOf"):
        if schema.get(key) and not props:
            for sub in schema[key]:
                sub = resolve(spec, sub)
                if sub.get("type") != "null":
                    return merged(spec, sub)
    return props, required


def sample(spec, schema, name="", full=False, depth=0):
    """A plausible value for `schema`: required fields only unless `full`."""
    schema = resolve(spec, schema)
    if depth > 8:
        return None
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        vals = [v for v in schema["enum"] if v is not None]
        return vals[0] if vals else None
    for key in ("oneOf", "anyOf"):
        # An optional object (`null` or a schema): absent is the plausible value.
        subs = [resolve(spec, x) for x in schema.get(key, [])]
        if any(x.get("type") == "null" for x in subs) and name and depth > 0:
            if all(schema_type(spec, x) in ("object", "null", None) for x in subs):
                return None
    for key in ("oneOf", "anyOf"):
        if key in schema:
            for sub in schema[key]:
                if resolve(spec, sub).get("type") != "null":
                    return sample(spec, sub, name, full, depth + 1)
    t = schema_type(spec, schema)
    fmt = schema.get("format", "")
    if t == "object":
        props, required = merged(spec, schema)
        out = {}
        for k, v in props.items():
            if full or k in required:
                out[k] = sample(spec, v, k, full, depth + 1)
        return out
    if t == "array":
        item = sample(spec, schema.get("items", {}), name, full, depth + 1)
        n = max(1, schema.get("minItems", 1))
        return [item] * n
    if t == "integer":
        lo = schema.get("minimum", 0)
        if "exclusiveMinimum" in schema and isinstance(schema["exclusiveMinimum"], (int, float)):
            lo = schema["exclusiveMinimum"] + 1
        n = name.lower()
        if "days" in n:
            return max(lo, 10)
        if "minor" in n or "amount" in n:
            return max(lo, 1_000_000)
        if "year" in n:
            return 2026
        return max(lo, 1)
    if t == "number":
        return max(schema.get("minimum", 0), 0.5)
    if t == "boolean":
        return True
    if t == "string":
        desc = schema.get("description", "")
        if "YYYY-MM-DD" in desc:
            fmt = fmt or "date"
        elif "YYYY-MM" in desc:
            return datetime.date.today().strftime("%Y-%m")
        if fmt == "date":
            return (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
        if fmt == "date-time":
            return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if fmt == "uuid" or name.endswith("_id") or name == "id":
            return "00000000-0000-4000-8000-000000000000"
        if fmt == "email" or "email" in name:
            return "probe@example.test"
        n = name.lower()
        if n in ("currency",):
            return "VND"
        if "month" in n or "period" in n:
            return datetime.date.today().strftime("%Y-%m")
        text = "Probe text for " + (name or "value")
        lo = schema.get("minLength", 0)
        if len(text) < lo:
            text = text + "x" * (lo - len(text))
        mx = schema.get("maxLength")
        if mx is not None:
            text = text[:mx]
        return text
    return None
