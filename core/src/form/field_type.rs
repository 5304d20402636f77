//! The kinds of field ([`FieldType`]) and what each kind is: its JSON name, whether it
//! is asked, holds choices, is metadata or is exported.

use serde::{Deserialize, Serialize};

/// The kind of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Integer,
    Decimal,
    Range,
    SelectOne,
    SelectMultiple,
    Rank,
    Date,
    Time,
    Datetime,
    Geopoint,
    Geotrace,
    Geoshape,
    Image,
    Audio,
    Video,
    File,
    Barcode,
    Note,
    Acknowledge,
    Calculate,
    Hidden,
    Start,
    End,
    Today,
    Deviceid,
    Username,
    /// One roster member drawn at random; the answer is the member's instance number.
    RespondentSelection,
    /// The services of the referral directory matching the respondent's area and needs,
    /// offered; the answer is the outcome and the services accepted
    /// ([`crate::referral::ReferralAnswer`]).
    Referral,
}

impl FieldType {
    pub const ALL: [FieldType; 29] = [
        FieldType::Text,
        FieldType::Integer,
        FieldType::Decimal,
        FieldType::Range,
        FieldType::SelectOne,
        FieldType::SelectMultiple,
        FieldType::Rank,
        FieldType::Date,
        FieldType::Time,
        FieldType::Datetime,
        FieldType::Geopoint,
        FieldType::Geotrace,
        FieldType::Geoshape,
        FieldType::Image,
        FieldType::Audio,
        FieldType::Video,
        FieldType::File,
        FieldType::Barcode,
        FieldType::Note,
        FieldType::Acknowledge,
        FieldType::Calculate,
        FieldType::Hidden,
        FieldType::Start,
        FieldType::End,
        FieldType::Today,
        FieldType::Deviceid,
        FieldType::Username,
        FieldType::RespondentSelection,
        FieldType::Referral,
    ];

    /// The name used in JSON (`select_one`, `geopoint`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Decimal => "decimal",
            FieldType::Range => "range",
            FieldType::SelectOne => "select_one",
            FieldType::SelectMultiple => "select_multiple",
            FieldType::Rank => "rank",
            FieldType::Date => "date",
            FieldType::Time => "time",
            FieldType::Datetime => "datetime",
            FieldType::Geopoint => "geopoint",
            FieldType::Geotrace => "geotrace",
            FieldType::Geoshape => "geoshape",
            FieldType::Image => "image",
            FieldType::Audio => "audio",
            FieldType::Video => "video",
            FieldType::File => "file",
            FieldType::Barcode => "barcode",
            FieldType::Note => "note",
            FieldType::Acknowledge => "acknowledge",
            FieldType::Calculate => "calculate",
            FieldType::Hidden => "hidden",
            FieldType::Start => "start",
            FieldType::End => "end",
            FieldType::Today => "today",
            FieldType::Deviceid => "deviceid",
            FieldType::Username => "username",
            FieldType::RespondentSelection => "respondent_selection",
            FieldType::Referral => "referral",
        }
    }

    /// Fields filled by the device, never shown as questions.
    pub fn is_metadata(self) -> bool {
        matches!(
            self,
            FieldType::Start
                | FieldType::End
                | FieldType::Today
                | FieldType::Deviceid
                | FieldType::Username
        )
    }

    /// Fields whose answer comes from a choice list.
    pub fn uses_choices(self) -> bool {
        matches!(
            self,
            FieldType::SelectOne | FieldType::SelectMultiple | FieldType::Rank
        )
    }

    /// Fields whose answer is a file attachment.
    pub fn is_media(self) -> bool {
        matches!(
            self,
            FieldType::Image | FieldType::Audio | FieldType::Video | FieldType::File
        )
    }

    /// Fields that hold no answer of their own (a note) or are never shown (calculate, hidden, metadata).
    pub fn is_shown_question(self) -> bool {
        !(self.is_metadata() || matches!(self, FieldType::Calculate | FieldType::Hidden))
    }
}
