//! The identity provider through the router: a signed-in visitor's code
//! flow (PKCE, client_secret_basic, userinfo), a replayed code, and a
//! visitor sent through the login who is brought back to the request.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;

use super::fixture::{ENT_CALLBACK, Fixture};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn authorize(fx: &Fixture) -> String {
    format!(
        "/oidc/authorize?client_id={}&redirect_uri=https%3A%2F%2Fent.ac-test.fr%2Fcb&response_type=code\
         &scope=openid%20email%20profile&state=etat&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        fx.client
    )
}

fn location(resp: &axum::response::Response) -> String {
    resp.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn body(resp: axum::response::Response) -> serde_json::Value {
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn token(fx: &Fixture, form: &str, secret: &str) -> axum::response::Response {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", fx.client));
    let req = Request::builder()
        .method(Method::POST)
        .uri("/oidc/token")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap();
    fx.send(req).await
}

#[tokio::test]
async fn a_signed_in_visitor_gets_a_code_once_and_the_client_its_tokens() {
    let fx = Fixture::new().await;
    let cookie = fx.a_cookie().await;
    let req = Request::builder().uri(authorize(&fx)).header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    let resp = fx.send(req).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with(&format!("{ENT_CALLBACK}?code=")), "{to}");
    assert!(to.ends_with("&iss=https%3A%2F%2Fardoise.test&state=etat"), "{to}");
    let code = to.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fent.ac-test.fr%2Fcb&code_verifier={VERIFIER}"
    );
    let wrong = token(&fx, &form, "pas-le-secret").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().contains_key(header::WWW_AUTHENTICATE));
    let ok = token(&fx, &form, &fx.client_secret).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()[header::CACHE_CONTROL], "no-store");
    let tokens = body(ok).await;
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap();
    let req = Request::builder()
        .uri("/oidc/userinfo")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    let info = body(fx.send(req).await).await;
    assert_eq!(info["email"], "alice.martin@ac-test.fr");
    assert_eq!(info["name"], "Alice Martin");
    // The same code again: refused, and the first tokens revoked.
    let replay = token(&fx, &form, &fx.client_secret).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(replay).await["error"], "invalid_grant");
    let req = Request::builder()
        .uri("/oidc/userinfo")
        .header(header::AUTHORIZATION, format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(fx.send(req).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_visitor_not_signed_in_goes_through_the_login_and_comes_back() {
    let fx = Fixture::new().await;
    let resp = fx.send(Request::builder().uri(authorize(&fx)).body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/connexion");
    let resume = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("ardoise_suite="))
        .expect("the request is remembered");
    let value = resume.split(';').next().unwrap().trim_start_matches("ardoise_suite=");
    let target = crate::base::session::resume_target(value).unwrap();
    assert!(target.starts_with("/oidc/authorize?client_id="), "{target}");
    assert!(target.contains("&connexion="), "{target}");
    // prompt=none without a session: back to the client, never a login page.
    let none = format!("{}&prompt=none", authorize(&fx));
    let resp = fx.send(Request::builder().uri(none).body(Body::empty()).unwrap()).await;
    assert!(location(&resp).ends_with("error=login_required&error_description=not%20signed%20in&state=etat"));
    // A resume cookie naming another site is ignored.
    let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("https://evil.example/");
    assert!(crate::base::session::resume_target(&other).is_none());
    let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("//evil.example/oidc/authorize?");
    assert!(crate::base::session::resume_target(&other).is_none());
}
