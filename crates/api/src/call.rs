//! The contract's [`Call`] read from an HTTP request's headers. As an
//! extractor it is also the document's bearer security scheme; it never
//! refuses a request itself, so missing and malformed credentials get the
//! contract's answers from the method.

use onboard_contract::Call;
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

/// The security scheme's name in the document.
const SCHEME: &str = "BearerAuth";

/// A call's credentials, organization and idempotency key.
#[derive(Debug, Clone)]
pub struct HttpCall(pub Call);

impl HttpCall {
    pub fn from_request(req: &Request) -> Self {
        Self(Call::from_lookup(|name| req.headers().get(name).map(|v| v.as_bytes())))
    }
}

impl<'a> ApiExtractor<'a> for HttpCall {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "`Authorization: Bearer <token>`: a personal access token, or an identity provider's JWT access token.",
                ),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec![SCHEME]
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        Ok(Self::from_request(request))
    }
}
