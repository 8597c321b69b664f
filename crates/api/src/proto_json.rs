//! The contract's messages as HTTP bodies, read and written by the
//! contract's JSON rules and described in the OpenAPI document from their
//! descriptors, so poem-openapi needs no second description of them.
//!
//! Requests are read whatever their `Content-Type` (or without one), and an
//! empty body is `{}`, as ZITADEL's gateway reads them.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use onboard_contract::{Fault, json};
use poem::{IntoResponse, Request, RequestBody, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ApiResponse, ExtractParamOptions};
use prost_reflect::ReflectMessage;

use crate::errors::ApiError;
use crate::schema;

/// What a message type needs to travel as JSON.
pub trait WireMessage: ReflectMessage + prost::Message + Default + Send + Sync + 'static {}

impl<T: ReflectMessage + prost::Message + Default + Send + Sync + 'static> WireMessage for T {}

const CONTENT_TYPE: &str = "application/json";

fn schema_of<T: WireMessage>() -> MetaSchemaRef {
    let d = T::default().descriptor();
    MetaSchemaRef::Reference(schema::schema_name(d.full_name(), d.package_name()))
}

async fn read<T: WireMessage>(body: &mut RequestBody) -> poem::Result<T> {
    let bytes = body.take()?.into_vec().await?;
    json::parse::<T>(&bytes).map_err(|e| ApiError::from(Fault::malformed(e)).into())
}

fn request_meta(schema: MetaSchemaRef) -> MetaRequest {
    MetaRequest {
        description: None,
        content: vec![MetaMediaType { content_type: CONTENT_TYPE, schema }],
        // An empty body is the message with every field unset.
        required: false,
    }
}

/// A whole message as the request or answer body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProtoJson<T>(pub T);

impl<T: WireMessage> Payload for ProtoJson<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn check_content_type(_: &str) -> bool {
        true
    }

    fn schema_ref() -> MetaSchemaRef {
        schema_of::<T>()
    }

    fn register(registry: &mut Registry) {
        schema::register_message(registry, &T::default().descriptor(), &BTreeSet::new(), None);
    }
}

impl<T: WireMessage> IntoResponse for ProtoJson<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(CONTENT_TYPE).body(json::to_vec(&self.0))
    }
}

impl<T: WireMessage> ApiResponse for ProtoJson<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "A successful response.",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType { content_type: CONTENT_TYPE, schema: schema_of::<T>() }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }
}

impl<'a, T: WireMessage> ApiExtractor<'a> for ProtoJson<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(request_meta(schema_of::<T>()))
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        read(body).await.map(Self)
    }
}

/// A request whose path carries some of the message's fields: the body is
/// the message without them (grpc-gateway's `body: "*"` with path
/// parameters), and the handler sets them from the path.
pub trait PathBound: Send + Sync + 'static {
    type Message: WireMessage;
    /// The body's schema name in the document (`ManagementServiceResendHumanInitializationBody`).
    const SCHEMA: &'static str;
    /// The proto names of the fields that travel in the path.
    const PATH_FIELDS: &'static [&'static str];
}

/// The body of a [`PathBound`] request.
#[derive(Debug)]
pub struct ProtoBody<B: PathBound>(pub B::Message, PhantomData<B>);

impl<B: PathBound> ProtoBody<B> {
    pub fn into_inner(self) -> B::Message {
        self.0
    }
}

impl<'a, B: PathBound> ApiExtractor<'a> for ProtoBody<B> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        let skip: BTreeSet<&str> = B::PATH_FIELDS.iter().copied().collect();
        schema::register_message(registry, &B::Message::default().descriptor(), &skip, Some(B::SCHEMA));
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(request_meta(MetaSchemaRef::Reference(B::SCHEMA.to_owned())))
    }

    async fn from_request(
        _request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        read(body).await.map(|m| Self(m, PhantomData))
    }
}
