//! What `onboard admin` prints: aligned text for people, or JSON in the HTTP
//! API's shapes (lowerCamelCase, unset fields omitted) with `--json`. A
//! token appears only in the output of `pat issue`.

use onboard_domain::usecases::{IssuedToken, NewWebhookSecret};
use onboard_domain::webhook_events::WebhookDelivery;
use onboard_domain::webhooks::WebhookEndpoint;
use onboard_domain::{Branding, Grant, GrantScope, OrgId, Organization, ServiceAccount, TokenRecord};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The result of one command.
#[derive(Debug)]
pub enum Output {
    /// Just created: the text form is the id alone, for scripts.
    Organization(Organization),
    Organizations(Vec<Organization>),
    /// Just created: the text form is the id alone, for scripts.
    NewAccount(ServiceAccount),
    /// After a change of its grants.
    Account(ServiceAccount),
    Accounts(Vec<ServiceAccount>),
    /// The text form is the token alone on its line, for scripts.
    Issued(IssuedToken),
    /// After it was revoked.
    Token(TokenRecord),
    Tokens(Vec<TokenRecord>),
    Everything {
        organizations: Vec<Organization>,
        accounts: Vec<ServiceAccount>,
        tokens: Vec<TokenRecord>,
    },
    /// An organization's branding (after a change, or shown); `None`: none.
    Branding {
        org: OrgId,
        branding: Option<Branding>,
    },
    /// A webhook endpoint just made or given a new secret: the text form is
    /// the id and the secret, each on its line, for scripts.
    NewWebhook(NewWebhookSecret),
    Webhook(WebhookEndpoint),
    Webhooks(Vec<WebhookEndpoint>),
    DeletedWebhook(String),
    Deliveries(Vec<WebhookDelivery>),
    /// An organization's completion URL; `None`: none.
    CompletionUrl {
        org: OrgId,
        url: Option<onboard_domain::CompletionUrl>,
    },
}

impl Output {
    /// What goes to stdout; `now` tells expired tokens apart.
    pub fn render(&self, json: bool, now: OffsetDateTime) -> String {
        if json {
            let mut text = serde_json::to_string_pretty(&self.json()).unwrap_or_default();
            text.push('\n');
            return text;
        }
        match self {
            Self::Organization(o) => format!("{}\n", o.id),
            Self::NewAccount(a) => format!("{}\n", a.id),
            Self::Issued(issued) => format!("{}\n", issued.token),
            Self::Organizations(orgs) => org_table(orgs),
            Self::Account(a) => account_table(std::slice::from_ref(a)),
            Self::Accounts(accounts) => account_table(accounts),
            Self::Token(t) => token_table(std::slice::from_ref(t), now),
            Self::Tokens(tokens) => token_table(tokens, now),
            Self::Everything { organizations, accounts, tokens } => format!(
                "ORGANIZATIONS\n{}\nSERVICE ACCOUNTS\n{}\nTOKENS\n{}",
                org_table(organizations),
                account_table(accounts),
                token_table(tokens, now)
            ),
            Self::Branding { org, branding } => branding_text(org, branding.as_ref()),
            Self::NewWebhook(n) => format!("{}\n{}\n", n.endpoint.id, n.secret),
            Self::Webhook(e) => webhook_table(std::slice::from_ref(e)),
            Self::Webhooks(all) => webhook_table(all),
            Self::DeletedWebhook(id) => format!("{id}\n"),
            Self::Deliveries(all) => delivery_table(all),
            Self::CompletionUrl { url, .. } => {
                format!("{}\n", url.as_ref().map_or("(none)", onboard_domain::CompletionUrl::as_str))
            }
        }
    }

    /// A line for people, on stderr, where stdout holds only an id or a token.
    pub fn note(&self) -> Option<String> {
        match self {
            Self::Organization(o) => Some(format!("created organization {:?}", o.name)),
            Self::NewAccount(a) => Some(format!("created service account {:?} in organization {}", a.name, a.org)),
            Self::Issued(issued) => Some(format!(
                "issued token {} for service account {}, expires {}; it is shown only now",
                issued.record.id,
                issued.record.account,
                issued.record.expires_at.map_or_else(|| "never".to_owned(), short_time)
            )),
            Self::NewWebhook(n) => Some(format!(
                "webhook endpoint {} of organization {}: its signing secret is shown only now",
                n.endpoint.id, n.endpoint.org
            )),
            Self::DeletedWebhook(id) => Some(format!("deleted webhook endpoint {id}")),
            _ => None,
        }
    }

    fn json(&self) -> Value {
        let list = |items: Vec<Value>| json!({ "result": items });
        match self {
            Self::Organization(o) => org_json(o),
            Self::Organizations(orgs) => list(orgs.iter().map(org_json).collect()),
            Self::NewAccount(a) | Self::Account(a) => account_json(a),
            Self::Accounts(accounts) => list(accounts.iter().map(account_json).collect()),
            Self::Issued(issued) => {
                let mut v = json!({ "tokenId": issued.record.id, "token": issued.token });
                if let Some(at) = issued.record.expires_at {
                    v["expirationDate"] = rfc3339(at).into();
                }
                v
            }
            Self::Token(t) => token_json(t),
            Self::Tokens(tokens) => list(tokens.iter().map(token_json).collect()),
            Self::Everything { organizations, accounts, tokens } => json!({
                "organizations": organizations.iter().map(org_json).collect::<Vec<_>>(),
                "serviceAccounts": accounts.iter().map(account_json).collect::<Vec<_>>(),
                "pats": tokens.iter().map(token_json).collect::<Vec<_>>(),
            }),
            Self::Branding { org, branding } => onboard_api::BrandingView::of(org, branding.as_ref()).to_value(),
            Self::NewWebhook(n) => onboard_api::WebhookWithSecretView::from(n.clone()).to_value(),
            Self::Webhook(e) => onboard_api::WebhookView::from(e).to_value(),
            Self::Webhooks(all) => list(all.iter().map(|e| onboard_api::WebhookView::from(e).to_value()).collect()),
            Self::DeletedWebhook(id) => json!({ "id": id }),
            Self::Deliveries(all) => list(all.iter().map(|d| onboard_api::DeliveryView::from(d).to_value()).collect()),
            Self::CompletionUrl { org, url } => match url {
                Some(url) => json!({ "orgId": org.to_string(), "url": url.as_str() }),
                None => json!({ "orgId": org.to_string() }),
            },
        }
    }
}

/// One line per field set, names as in the HTTP API.
fn branding_text(org: &OrgId, branding: Option<&Branding>) -> String {
    let view = onboard_api::BrandingView::of(org, branding).to_value();
    let Some(fields) = view.as_object() else { return String::new() };
    if fields.len() <= 1 {
        return format!("organization {org} has no branding\n");
    }
    let rows = fields
        .iter()
        .filter(|(k, _)| k.as_str() != "templates")
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Object(logo) => format!(
                    "{} {} bytes at {}",
                    logo["contentType"].as_str().unwrap_or_default(),
                    logo["bytes"],
                    logo["path"].as_str().unwrap_or_default()
                ),
                other => other.to_string(),
            };
            vec![k.clone(), value]
        })
        .collect();
    let mut text = table(&["FIELD", "VALUE"], rows);
    for t in view["templates"].as_array().into_iter().flatten() {
        let parts: Vec<&str> = ["subject", "text", "html"].into_iter().filter(|p| t.get(*p).is_some()).collect();
        let pages: Vec<&String> = t["page"].as_object().map(|p| p.keys().collect()).unwrap_or_default();
        text.push_str(&format!(
            "templates {}: email {}; page {}\n",
            t["language"].as_str().unwrap_or_default(),
            if parts.is_empty() { "built in".to_owned() } else { parts.join(", ") },
            if pages.is_empty() {
                "built in".to_owned()
            } else {
                pages.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            },
        ));
    }
    text
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_default()
}

/// To the second: enough to read, and aligned.
fn short_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t);
    rfc3339(t)
}

fn org_json(o: &Organization) -> Value {
    json!({ "id": o.id.as_str(), "name": o.name })
}

fn grant_json(g: &Grant) -> Value {
    match &g.scope {
        GrantScope::Instance => json!({ "role": g.role.as_str() }),
        GrantScope::Organization(org) => json!({ "role": g.role.as_str(), "orgId": org.as_str() }),
    }
}

fn account_json(a: &ServiceAccount) -> Value {
    json!({
        "id": a.id,
        "orgId": a.org.as_str(),
        "name": a.name,
        "grants": a.grants.iter().map(grant_json).collect::<Vec<_>>(),
        "creationDate": rfc3339(a.created_at),
    })
}

fn token_json(t: &TokenRecord) -> Value {
    let mut v = json!({
        "tokenId": t.id,
        "serviceAccountId": t.account,
        "creationDate": rfc3339(t.created_at),
        "revoked": t.revoked,
    });
    if let Some(at) = t.expires_at {
        v["expirationDate"] = rfc3339(at).into();
    }
    v
}

/// Columns padded to their widest cell, two spaces apart; the last one unpadded.
fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header = headers.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push('\n');
    }
    out
}

fn org_table(orgs: &[Organization]) -> String {
    table(&["ID", "NAME"], orgs.iter().map(|o| vec![o.id.to_string(), o.name.clone()]).collect())
}

fn grants_text(grants: &[Grant]) -> String {
    if grants.is_empty() {
        return "-".into();
    }
    let each = grants.iter().map(|g| match &g.scope {
        GrantScope::Instance => g.role.as_str().to_owned(),
        GrantScope::Organization(org) => format!("{}@{org}", g.role.as_str()),
    });
    each.collect::<Vec<_>>().join(",")
}

fn account_table(accounts: &[ServiceAccount]) -> String {
    let rows = accounts
        .iter()
        .map(|a| {
            vec![a.id.clone(), a.org.to_string(), a.name.clone(), short_time(a.created_at), grants_text(&a.grants)]
        })
        .collect();
    table(&["ID", "ORG", "NAME", "CREATED", "GRANTS"], rows)
}

fn token_table(tokens: &[TokenRecord], now: OffsetDateTime) -> String {
    let state = |t: &TokenRecord| match (t.revoked, t.is_valid_at(now)) {
        (true, _) => "revoked",
        (false, true) => "active",
        (false, false) => "expired",
    };
    let rows = tokens
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.account.clone(),
                short_time(t.created_at),
                t.expires_at.map_or_else(|| "never".to_owned(), short_time),
                state(t).to_owned(),
            ]
        })
        .collect();
    table(&["ID", "ACCOUNT", "CREATED", "EXPIRES", "STATE"], rows)
}

fn delivery_table(deliveries: &[WebhookDelivery]) -> String {
    let rows = deliveries
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.event_type.as_str().to_owned(),
                d.state.as_str().to_owned(),
                d.attempts.to_string(),
                d.last_status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                d.last_attempt_at.map_or_else(|| "-".to_owned(), short_time),
            ]
        })
        .collect();
    table(&["ID", "EVENT", "STATUS", "ATTEMPTS", "LAST CODE", "LAST ATTEMPT"], rows)
}

fn webhook_table(endpoints: &[WebhookEndpoint]) -> String {
    let rows = endpoints
        .iter()
        .map(|e| {
            let types = if e.event_types.is_empty() {
                "*".to_owned()
            } else {
                e.event_types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
            };
            vec![
                e.id.clone(),
                e.org.to_string(),
                e.url.as_str().to_owned(),
                types,
                if e.enabled { "enabled" } else { "disabled" }.to_owned(),
                short_time(e.created_at),
            ]
        })
        .collect();
    table(&["ID", "ORGANIZATION", "URL", "EVENTS", "STATE", "CREATED"], rows)
}

#[cfg(test)]
mod tests {
    use onboard_domain::{OrgId, Role};
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2025-03-01 12:00:00.25 UTC);

    fn account() -> ServiceAccount {
        let org = OrgId::parse("100").unwrap();
        ServiceAccount {
            id: "7".into(),
            org: org.clone(),
            name: "importer".into(),
            grants: vec![
                Grant { scope: GrantScope::Organization(org), role: Role::OrgUserManager },
                Grant { scope: GrantScope::Instance, role: Role::IamOwnerViewer },
            ],
            created_at: NOW,
        }
    }

    fn record(revoked: bool, expires_at: Option<OffsetDateTime>) -> TokenRecord {
        TokenRecord { id: "ab12".into(), account: "7".into(), created_at: NOW, expires_at, revoked }
    }

    #[test]
    fn text_is_aligned_in_columns() {
        let text = Output::Accounts(vec![account()]).render(false, NOW);
        assert_eq!(
            text,
            "ID  ORG  NAME      CREATED               GRANTS\n\
             7   100  importer  2025-03-01T12:00:00Z  ORG_USER_MANAGER@100,IAM_OWNER_VIEWER\n"
        );
        let tokens = Output::Tokens(vec![
            record(false, None),
            record(true, None),
            record(false, Some(datetime!(2025-01-01 0:00 UTC))),
        ]);
        let text = tokens.render(false, NOW);
        let states: Vec<&str> = text.lines().skip(1).map(|l| l.rsplit(' ').next().unwrap()).collect();
        assert_eq!(states, ["active", "revoked", "expired"]);
    }

    #[test]
    fn json_has_the_http_shapes() {
        let v: Value = serde_json::from_str(&Output::Account(account()).render(true, NOW)).unwrap();
        assert_eq!(
            v,
            json!({"id": "7", "orgId": "100", "name": "importer", "creationDate": "2025-03-01T12:00:00.25Z",
                   "grants": [{"role": "ORG_USER_MANAGER", "orgId": "100"}, {"role": "IAM_OWNER_VIEWER"}]})
        );
        let v: Value = serde_json::from_str(&Output::Tokens(vec![record(true, None)]).render(true, NOW)).unwrap();
        assert_eq!(
            v,
            json!({"result": [{"tokenId": "ab12", "serviceAccountId": "7", "creationDate": "2025-03-01T12:00:00.25Z", "revoked": true}]})
        );
    }

    #[test]
    fn only_the_issue_output_holds_the_token() {
        let issued = IssuedToken { token: "onb_secret".into(), record: record(false, None) };
        let out = Output::Issued(issued);
        assert_eq!(out.render(false, NOW), "onb_secret\n");
        assert!(!out.note().unwrap().contains("onb_secret"));
        assert!(!format!("{out:?}").contains("onb_secret"));
    }
}
