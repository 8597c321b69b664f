//! onboard's `.proto` files say what ZITADEL's say: for every message and
//! enum onboard serves, each field's name, number, type, label, type name,
//! oneof and JSON name, the reserved numbers and names, and each enum
//! value equal those in the descriptors `@zitadel/proto` 1.3.1 embeds; every
//! served method has ZITADEL's request and response types. A client
//! generated from either set of files is the same client.

use std::collections::BTreeMap;

use base64::Engine;
use onboard_tests::sdk::run_node;
use prost::Message;
use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// Every message and enum of `files`, by full name.
#[derive(Default)]
struct Index {
    messages: BTreeMap<String, DescriptorProto>,
    enums: BTreeMap<String, EnumDescriptorProto>,
    methods: BTreeMap<String, (String, String)>,
}

fn walk(index: &mut Index, scope: &str, message: &DescriptorProto) {
    let name = format!("{scope}.{}", message.name());
    for nested in &message.nested_type {
        walk(index, &name, nested);
    }
    for e in &message.enum_type {
        index.enums.insert(format!("{name}.{}", e.name()), e.clone());
    }
    index.messages.insert(name, message.clone());
}

fn index(files: &[FileDescriptorProto]) -> Index {
    let mut index = Index::default();
    for file in files {
        let scope = format!(".{}", file.package());
        for m in &file.message_type {
            walk(&mut index, &scope, m);
        }
        for e in &file.enum_type {
            index.enums.insert(format!("{scope}.{}", e.name()), e.clone());
        }
        for s in &file.service {
            for m in &s.method {
                let key = format!("{scope}.{}/{}", s.name(), m.name());
                index.methods.insert(key, (m.input_type().to_owned(), m.output_type().to_owned()));
            }
        }
    }
    index
}

/// The parts of a message a generated client depends on, in a form that
/// prints readably when two differ.
fn shape(m: &DescriptorProto) -> Vec<String> {
    let mut out: Vec<String> = m
        .field
        .iter()
        .map(|f| {
            format!(
                "field {} = {} type {:?} label {:?} type_name {:?} oneof {:?} proto3_optional {:?} json {:?}",
                f.name(),
                f.number(),
                f.r#type(),
                f.label(),
                f.type_name(),
                f.oneof_index,
                f.proto3_optional,
                f.json_name(),
            )
        })
        .collect();
    out.extend(m.oneof_decl.iter().map(|o| format!("oneof {}", o.name())));
    out.extend(m.reserved_range.iter().map(|r| format!("reserved {}..{}", r.start(), r.end())));
    out.extend(m.reserved_name.iter().map(|n| format!("reserved name {n}")));
    out
}

fn enum_shape(e: &EnumDescriptorProto) -> Vec<String> {
    let mut out: Vec<String> = e.value.iter().map(|v| format!("{} = {}", v.name(), v.number())).collect();
    out.extend(e.reserved_range.iter().map(|r| format!("reserved {}..{}", r.start(), r.end())));
    out.extend(e.reserved_name.iter().map(|n| format!("reserved name {n}")));
    out
}

#[tokio::test]
async fn every_served_message_matches_zitadels_published_descriptors() {
    let ours = FileDescriptorSet::decode(onboard_contract::pb::FILE_DESCRIPTOR_SET).expect("our descriptor set");
    let zitadel_files: Vec<FileDescriptorProto> =
        ours.file.iter().filter(|f| f.package().starts_with("zitadel.")).cloned().collect();
    let names: Vec<&str> = zitadel_files.iter().map(|f| f.name()).collect();
    assert!(names.contains(&"zitadel/management.proto"), "{names:?}");

    let out = run_node("descriptors.mjs", &names, &[]).await;
    let set =
        base64::engine::general_purpose::STANDARD.decode(out.lines[0]["set"].as_str().expect("a set")).expect("base64");
    let theirs = FileDescriptorSet::decode(set.as_slice()).expect("@zitadel/proto's descriptor set");

    // Same files, same packages.
    for (a, b) in zitadel_files.iter().zip(&theirs.file) {
        assert_eq!((a.name(), a.package()), (b.name(), b.package()));
    }
    let (ours, theirs) = (index(&zitadel_files), index(&theirs.file));
    let mut checked = 0;
    for (name, message) in &ours.messages {
        let Some(published) = theirs.messages.get(name) else { panic!("{name} is not one of ZITADEL's messages") };
        assert_eq!(shape(message), shape(published), "{name} differs from ZITADEL's");
        checked += 1;
    }
    for (name, e) in &ours.enums {
        let Some(published) = theirs.enums.get(name) else { panic!("{name} is not one of ZITADEL's enums") };
        assert_eq!(enum_shape(e), enum_shape(published), "{name} differs from ZITADEL's");
    }
    for (name, types) in &ours.methods {
        assert_eq!(Some(types), theirs.methods.get(name), "{name}: request and response types");
    }
    // The management service's served methods at least, and their messages.
    assert!(ours.methods.contains_key(".zitadel.management.v1.ManagementService/ResendHumanInitialization"));
    assert!(checked > 50, "only {checked} messages compared");
}
