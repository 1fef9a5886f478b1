//! `/healthz` and `/readyz`, for load balancers and supervisors (issue 24,
//! item 7): the first says the process answers HTTP, the second that it can
//! serve, its database answering within [`READY_WITHIN`]. Neither needs a
//! session nor says anything of users; both are never cached.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::App;

/// How long the database may take to answer a readiness check.
pub const READY_WITHIN: Duration = Duration::from_secs(2);

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

pub async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n")
}

pub async fn readyz(State(app): State<Arc<App>>) -> Response {
    match tokio::time::timeout(READY_WITHIN, app.ms.local_domains()).await {
        Ok(Ok(_)) => text(StatusCode::OK, "ready\n"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database failed");
            text(StatusCode::SERVICE_UNAVAILABLE, "base de données indisponible / database unavailable\n")
        }
        Err(_) => {
            tracing::warn!("readiness: the database did not answer in time");
            text(StatusCode::SERVICE_UNAVAILABLE, "base de données trop lente / database too slow\n")
        }
    }
}
