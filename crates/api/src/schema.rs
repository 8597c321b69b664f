//! OpenAPI schemas made from the messages' descriptors, so the document
//! describes exactly the JSON the contract reads and writes: field names as
//! protojson writes them, 64-bit integers as strings, enums by name,
//! timestamps as date-times. Schema names follow grpc-gateway's
//! (`v1AddHumanUserRequest`, `AddHumanUserRequestProfile`, `rpcStatus`), as
//! ZITADEL's own document has them.

use std::collections::BTreeSet;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use prost_reflect::{Cardinality, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

/// The document's name of a message or enum: the last segment of its
/// package before top-level names (`v1User`), the enclosing messages before
/// nested ones (`AddHumanUserRequestProfile`).
pub fn schema_name(full_name: &str, package: &str) -> String {
    let local = full_name.strip_prefix(package).map_or(full_name, |n| n.trim_start_matches('.'));
    let parts: Vec<&str> = local.split('.').collect();
    if parts.len() > 1 {
        parts.concat()
    } else {
        let prefix = package.rsplit('.').next().unwrap_or_default();
        format!("{prefix}{local}")
    }
}

fn message_name(m: &MessageDescriptor) -> String {
    schema_name(m.full_name(), m.package_name())
}

fn enum_name(e: &EnumDescriptor) -> String {
    schema_name(e.full_name(), e.package_name())
}

/// Descriptions live as long as the process: the document is built from
/// them a handful of times, and poem-openapi's schemas hold `&'static str`.
fn leak(s: &str) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static INTERNED: LazyLock<Mutex<HashMap<String, &'static str>>> = LazyLock::new(Default::default);
    let mut map = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = map.get(s) {
        return s;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    map.insert(s.to_owned(), leaked);
    leaked
}

/// The comment before an element of a `.proto` file, at `path` in its
/// source info, tidied into one paragraph per blank-line-separated block.
fn comment(file: &prost_reflect::FileDescriptor, path: &[i32]) -> Option<&'static str> {
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let text = location.leading_comments.as_deref().or(location.trailing_comments.as_deref())?;
    let text: Vec<&str> = text.lines().map(str::trim).collect();
    let text = text.join("\n").trim().to_owned();
    (!text.is_empty()).then(|| leak(&text))
}

fn field_comment(f: &FieldDescriptor) -> Option<&'static str> {
    comment(&f.parent_file(), f.path())
}

fn inline(ty: &'static str, format: Option<&'static str>) -> MetaSchemaRef {
    let mut s = MetaSchema::new(ty);
    s.format = format;
    MetaSchemaRef::Inline(Box::new(s))
}

/// The schema of one value of `kind`, registering the messages and enums it refers to.
fn kind_schema(registry: &mut Registry, kind: &Kind) -> MetaSchemaRef {
    match kind {
        Kind::String => inline("string", None),
        Kind::Bool => inline("boolean", None),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => inline("integer", Some("int32")),
        Kind::Uint32 | Kind::Fixed32 => inline("integer", Some("int64")),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => inline("string", Some("int64")),
        Kind::Uint64 | Kind::Fixed64 => inline("string", Some("uint64")),
        Kind::Float => inline("number", Some("float")),
        Kind::Double => inline("number", Some("double")),
        Kind::Bytes => inline("string", Some("byte")),
        Kind::Enum(e) => {
            register_enum(registry, e);
            MetaSchemaRef::Reference(enum_name(e))
        }
        Kind::Message(m) => match m.full_name() {
            "google.protobuf.Timestamp" => inline("string", Some("date-time")),
            "google.protobuf.Duration" => inline("string", None),
            "google.protobuf.Struct" => inline("object", None),
            _ => {
                register_message(registry, m, &BTreeSet::new(), None);
                MetaSchemaRef::Reference(message_name(m))
            }
        },
    }
}

fn field_schema(registry: &mut Registry, f: &FieldDescriptor) -> MetaSchemaRef {
    let value = kind_schema(registry, &f.kind());
    let mut schema = if f.is_map() {
        let Kind::Message(entry) = f.kind() else { unreachable!("map fields are entry messages") };
        let mut s = MetaSchema::new("object");
        s.additional_properties = Some(Box::new(kind_schema(registry, &entry.map_entry_value_field().kind())));
        s
    } else if f.cardinality() == Cardinality::Repeated {
        let mut s = MetaSchema::new("array");
        s.items = Some(Box::new(value));
        s
    } else {
        match value {
            MetaSchemaRef::Inline(s) => *s,
            // A description beside a reference needs allOf in OpenAPI 3.0.
            reference @ MetaSchemaRef::Reference(_) => {
                let Some(description) = field_comment(f) else { return reference };
                let mut s = MetaSchema::ANY;
                s.all_of = vec![reference];
                s.description = Some(description);
                return MetaSchemaRef::Inline(Box::new(s));
            }
        }
    };
    schema.description = field_comment(f);
    MetaSchemaRef::Inline(Box::new(schema))
}

fn register_enum(registry: &mut Registry, e: &EnumDescriptor) {
    let name = enum_name(e);
    if registry.schemas.contains_key(&name) {
        return;
    }
    let mut s = MetaSchema::new("string");
    s.enum_items = e.values().map(|v| serde_json::Value::String(v.name().to_owned())).collect();
    s.default = e.values().next().map(|v| serde_json::Value::String(v.name().to_owned()));
    s.description = comment(&e.parent_file(), e.path());
    registry.schemas.insert(name, s);
}

/// Registers `m` (and everything it refers to) under its name, or under
/// `name` without the fields in `skip` (a request body whose other fields
/// travel in the path).
pub fn register_message(registry: &mut Registry, m: &MessageDescriptor, skip: &BTreeSet<&str>, name: Option<&str>) {
    let name = name.map_or_else(|| message_name(m), str::to_owned);
    if let Some(existing) = registry.schemas.get(&name) {
        // Two messages under one name would describe one of them wrongly.
        assert!(
            existing.rust_typename.is_none_or(|t| t == m.full_name()),
            "{} and {:?} have the same OpenAPI name {name}",
            m.full_name(),
            existing.rust_typename
        );
        return;
    }
    // Inserted first, so messages that refer to themselves end.
    registry.schemas.insert(name.clone(), MetaSchema::new("object"));
    let mut s = if m.full_name() == "google.protobuf.Any" {
        let mut s = MetaSchema::new("object");
        s.properties = vec![("@type", inline("string", None))];
        s.additional_properties = Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema::ANY))));
        s
    } else {
        let mut s = MetaSchema::new("object");
        s.properties = m
            .fields()
            .filter(|f| !skip.contains(f.name()))
            .map(|f| (leak(f.json_name()), field_schema(registry, &f)))
            .collect();
        s
    };
    s.description = match m.full_name() {
        // The well-known type's own comment is a page about its binary form.
        "google.protobuf.Any" => Some("A message and its type: `@type` names it, the other fields are its own."),
        _ => comment(&m.parent_file(), m.path()),
    };
    s.rust_typename = Some(leak(m.full_name()));
    registry.schemas.insert(name, s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_grpc_gateway() {
        assert_eq!(schema_name("zitadel.user.v1.User", "zitadel.user.v1"), "v1User");
        assert_eq!(
            schema_name("zitadel.management.v1.AddHumanUserRequest.Profile", "zitadel.management.v1"),
            "AddHumanUserRequestProfile"
        );
        assert_eq!(schema_name("google.rpc.Status", "google.rpc"), "rpcStatus");
        assert_eq!(schema_name("google.protobuf.Any", "google.protobuf"), "protobufAny");
    }
}
