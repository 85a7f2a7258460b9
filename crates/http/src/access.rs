//! Tokens: each names a unit and a cadre. Acting (POST) always needs one and
//! the acting cadre is the token's. With access control on, every `/api`
//! route needs one and answers only within the token's unit subtree.

use std::collections::HashMap;

use axum::http::HeaderMap;
use serde::Deserialize;

use crate::error::ApiError;

/// One token's grant.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The secret.
    pub token: String,
    /// The unit it acts for (and, with access control, sees).
    pub unit: String,
    /// The cadre who acts.
    pub cadre: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tokens: Vec<Grant>,
}

/// The configured tokens.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    by_secret: HashMap<String, Grant>,
    /// Whether reads need a token too (`--access`).
    pub reads_need_token: bool,
}

/// Why a tokens file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    /// Not JSON of the tokens file's shape.
    #[error("not a tokens file: {0}")]
    NotATokensFile(#[source] serde_json::Error),
    /// A token shorter than [`MIN_TOKEN_LEN`].
    #[error("the token for {cadre} is shorter than {MIN_TOKEN_LEN} characters")]
    TooShort {
        /// The cadre it acts as.
        cadre: String,
    },
    /// A unit or cadre that is not a slug.
    #[error("unit {unit:?} and cadre {cadre:?} must be slugs")]
    NotSlugs {
        /// The grant's unit.
        unit: String,
        /// The grant's cadre.
        cadre: String,
    },
    /// One token given twice.
    #[error("a token is listed twice")]
    Repeated,
}

/// Shortest token accepted: a guessable token is no access control.
pub const MIN_TOKEN_LEN: usize = 16;

impl Tokens {
    /// Reads `{"tokens": [{"token", "unit", "cadre"}]}`.
    pub fn parse(text: &str, reads_need_token: bool) -> Result<Tokens, TokensError> {
        let file: File = serde_json::from_str(text).map_err(TokensError::NotATokensFile)?;
        let mut by_secret = HashMap::new();
        for grant in file.tokens {
            if grant.token.len() < MIN_TOKEN_LEN {
                return Err(TokensError::TooShort { cadre: grant.cadre });
            }
            if dotpha_domain::Slug::parse(&grant.unit).is_none()
                || dotpha_domain::Slug::parse(&grant.cadre).is_none()
            {
                return Err(TokensError::NotSlugs {
                    unit: grant.unit,
                    cadre: grant.cadre,
                });
            }
            if by_secret.insert(grant.token.clone(), grant).is_some() {
                return Err(TokensError::Repeated);
            }
        }
        Ok(Tokens {
            by_secret,
            reads_need_token,
        })
    }

    /// Every grant, ordered by unit then cadre.
    pub fn grants(&self) -> Vec<&Grant> {
        let mut grants: Vec<&Grant> = self.by_secret.values().collect();
        grants.sort_by(|a, b| (&a.unit, &a.cadre).cmp(&(&b.unit, &b.cadre)));
        grants
    }

    /// The grant of the request's bearer token, if it has a valid one.
    pub fn grant(&self, headers: &HeaderMap) -> Result<Option<&Grant>, ApiError> {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("use Authorization: Bearer <token>"))?;
        self.by_secret
            .get(token.trim())
            .map(Some)
            .ok_or_else(|| ApiError::unauthorized("unknown token"))
    }

    /// The grant a read must respect: `None` when reads are open.
    pub fn read_scope(&self, headers: &HeaderMap) -> Result<Option<&Grant>, ApiError> {
        if !self.reads_need_token {
            return Ok(None);
        }
        self.grant(headers)?.map(Some).ok_or_else(|| {
            ApiError::unauthorized("this server needs Authorization: Bearer <token>")
        })
    }
}
