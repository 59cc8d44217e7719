//! Typed identifiers, so that a case id can never be passed where a service id is meant.
//!
//! Ids are UUIDv7 (time-ordered, unguessable enough for URLs once access is checked) and
//! travel as their hyphenated text form in storage and JSON.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Uuid::parse_str(s).map(Self).map_err(|_| InvalidId)
            }
        }
    };
}

/// The text was not an id of ours. Callers answer 404: an id that cannot exist is not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct InvalidId;

id_type!(
    /// An account: admin, clerk or party.
    UserId
);
id_type!(
    /// A court.
    CourtId
);
id_type!(
    /// A case of a court.
    CaseId
);
id_type!(
    /// A party of one case (who may later be bound to a user account).
    PartyId
);
id_type!(
    /// An uploaded document of a case.
    DocumentId
);
id_type!(
    /// One act of serving one or more documents on one recipient.
    ServiceId
);
id_type!(
    /// One evidence event.
    EventId
);
id_type!(
    /// One queued notification.
    NotificationId
);
id_type!(
    /// A user's folder of served documents.
    FolderId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = CaseId::new();
        let back: CaseId = id.to_string().parse().unwrap();
        assert_eq!(id, back);
        assert!("not-an-id".parse::<CaseId>().is_err());
    }
}
