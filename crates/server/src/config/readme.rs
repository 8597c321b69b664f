//! The README's table of settings is made from their declaration. This test
//! fails when the two differ; `UPDATE=1` makes it write the table instead.

use super::cli::declaration;

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const START: &str = "<!-- settings: made from their declaration (crates/server/src/config); \
`UPDATE=1 cargo test -p onboard-server readme` remakes this table -->";
const END: &str = "<!-- /settings -->";

/// One table per help heading, in the order of `onboard --help`.
fn table(command: &clap::Command) -> String {
    let mut out = String::new();
    let mut heading = None;
    for arg in command.get_arguments().filter(|a| a.get_env().is_some()) {
        if heading != Some(arg.get_help_heading()) {
            heading = Some(arg.get_help_heading());
            if let Some(name) = arg.get_help_heading() {
                out += &format!("\n### {name}\n");
            }
            out += "\n| variable | default | meaning |\n|---|---|---|\n";
        }
        let env = arg.get_env().expect("filtered").to_string_lossy();
        let default = match arg.get_default_values() {
            [] => "—".to_owned(),
            values => format!("`{}`", values.iter().map(|v| v.to_string_lossy()).collect::<Vec<_>>().join(",")),
        };
        let meaning = arg.get_help().map(ToString::to_string).unwrap_or_default().replace('|', "\\|");
        out += &format!("| `{env}` | {default} | {meaning} |\n");
    }
    out
}

#[test]
fn the_readme_lists_every_setting_as_help_does() {
    let command = declaration();
    let help = command.clone().render_long_help().to_string();
    for arg in command.get_arguments().filter(|a| a.get_env().is_some()) {
        let env = arg.get_env().expect("filtered").to_string_lossy();
        assert!(help.contains(&format!("[env: {env}")), "{env} missing from --help");
        for default in arg.get_default_values().iter().map(|d| d.to_string_lossy()) {
            let shown = [format!("[default: {default}]"), format!("[default: \"{default}\"]")];
            assert!(shown.iter().any(|s| help.contains(s)), "--help lacks {env}'s default {default}");
        }
    }

    let readme = std::fs::read_to_string(README).unwrap();
    let start = readme.find(START).expect("the README marks where its table of settings starts") + START.len();
    let end = start + readme[start..].find(END).expect("and where it ends");
    let expected = format!("{}\n", table(&command));
    if readme[start..end] == expected {
        return;
    }
    if std::env::var_os("UPDATE").is_some() {
        std::fs::write(README, format!("{}{expected}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    let differs = readme[start..end].lines().zip(expected.lines()).find(|(a, b)| a != b);
    panic!(
        "README's table of settings differs from their declaration (first: {differs:?}); \
         run `UPDATE=1 cargo test -p onboard-server readme` and commit README.md"
    );
}
