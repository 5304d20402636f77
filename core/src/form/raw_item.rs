//! The JSON shape of an item: one object tagged by `type`, converted to and from
//! [`Item`] so the Rust type keeps fields apart from the containers.

use serde::{Deserialize, Serialize};

use super::{Consent, ConsentRole, Field, FieldType, Group, Item, Repeat};

/// A consent or assent block with its role set and its default name filled in.
fn consent(mut c: Consent, role: ConsentRole) -> Consent {
    c.role = role;
    if c.name.is_empty() {
        c.name = role.as_str().to_owned();
    }
    c
}

/// The JSON shape of [`Item`]: one tagged object, `type` naming the field type or construct.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum RawItem {
    Group(Group),
    Repeat(Repeat),
    Consent(Consent),
    Assent(Consent),
    Text(Field),
    Integer(Field),
    Decimal(Field),
    Range(Field),
    SelectOne(Field),
    SelectMultiple(Field),
    Rank(Field),
    Date(Field),
    Time(Field),
    Datetime(Field),
    Geopoint(Field),
    Geotrace(Field),
    Geoshape(Field),
    Image(Field),
    Audio(Field),
    Video(Field),
    File(Field),
    Barcode(Field),
    Note(Field),
    Acknowledge(Field),
    Calculate(Field),
    Hidden(Field),
    Start(Field),
    End(Field),
    Today(Field),
    Deviceid(Field),
    #[serde(alias = "enumerator")]
    Username(Field),
    RespondentSelection(Field),
    Referral(Field),
}

impl From<RawItem> for Item {
    fn from(raw: RawItem) -> Self {
        let (kind, mut field) = match raw {
            RawItem::Group(g) => return Item::Group(g),
            RawItem::Repeat(r) => return Item::Repeat(r),
            RawItem::Consent(c) => return Item::Consent(consent(c, ConsentRole::Consent)),
            RawItem::Assent(c) => return Item::Consent(consent(c, ConsentRole::Assent)),
            RawItem::Text(f) => (FieldType::Text, f),
            RawItem::Integer(f) => (FieldType::Integer, f),
            RawItem::Decimal(f) => (FieldType::Decimal, f),
            RawItem::Range(f) => (FieldType::Range, f),
            RawItem::SelectOne(f) => (FieldType::SelectOne, f),
            RawItem::SelectMultiple(f) => (FieldType::SelectMultiple, f),
            RawItem::Rank(f) => (FieldType::Rank, f),
            RawItem::Date(f) => (FieldType::Date, f),
            RawItem::Time(f) => (FieldType::Time, f),
            RawItem::Datetime(f) => (FieldType::Datetime, f),
            RawItem::Geopoint(f) => (FieldType::Geopoint, f),
            RawItem::Geotrace(f) => (FieldType::Geotrace, f),
            RawItem::Geoshape(f) => (FieldType::Geoshape, f),
            RawItem::Image(f) => (FieldType::Image, f),
            RawItem::Audio(f) => (FieldType::Audio, f),
            RawItem::Video(f) => (FieldType::Video, f),
            RawItem::File(f) => (FieldType::File, f),
            RawItem::Barcode(f) => (FieldType::Barcode, f),
            RawItem::Note(f) => (FieldType::Note, f),
            RawItem::Acknowledge(f) => (FieldType::Acknowledge, f),
            RawItem::Calculate(f) => (FieldType::Calculate, f),
            RawItem::Hidden(f) => (FieldType::Hidden, f),
            RawItem::Start(f) => (FieldType::Start, f),
            RawItem::End(f) => (FieldType::End, f),
            RawItem::Today(f) => (FieldType::Today, f),
            RawItem::Deviceid(f) => (FieldType::Deviceid, f),
            RawItem::Username(f) => (FieldType::Username, f),
            RawItem::RespondentSelection(f) => (FieldType::RespondentSelection, f),
            RawItem::Referral(f) => (FieldType::Referral, f),
        };
        field.kind = kind;
        Item::Field(field)
    }
}

impl From<Item> for RawItem {
    fn from(item: Item) -> Self {
        match item {
            Item::Group(g) => RawItem::Group(g),
            Item::Repeat(r) => RawItem::Repeat(r),
            Item::Consent(c) => match c.role {
                ConsentRole::Consent => RawItem::Consent(c),
                ConsentRole::Assent => RawItem::Assent(c),
            },
            Item::Field(f) => match f.kind {
                FieldType::Text => RawItem::Text(f),
                FieldType::Integer => RawItem::Integer(f),
                FieldType::Decimal => RawItem::Decimal(f),
                FieldType::Range => RawItem::Range(f),
                FieldType::SelectOne => RawItem::SelectOne(f),
                FieldType::SelectMultiple => RawItem::SelectMultiple(f),
                FieldType::Rank => RawItem::Rank(f),
                FieldType::Date => RawItem::Date(f),
                FieldType::Time => RawItem::Time(f),
                FieldType::Datetime => RawItem::Datetime(f),
                FieldType::Geopoint => RawItem::Geopoint(f),
                FieldType::Geotrace => RawItem::Geotrace(f),
                FieldType::Geoshape => RawItem::Geoshape(f),
                FieldType::Image => RawItem::Image(f),
                FieldType::Audio => RawItem::Audio(f),
                FieldType::Video => RawItem::Video(f),
                FieldType::File => RawItem::File(f),
                FieldType::Barcode => RawItem::Barcode(f),
                FieldType::Note => RawItem::Note(f),
                FieldType::Acknowledge => RawItem::Acknowledge(f),
                FieldType::Calculate => RawItem::Calculate(f),
                FieldType::Hidden => RawItem::Hidden(f),
                FieldType::Start => RawItem::Start(f),
                FieldType::End => RawItem::End(f),
                FieldType::Today => RawItem::Today(f),
                FieldType::Deviceid => RawItem::Deviceid(f),
                FieldType::Username => RawItem::Username(f),
                FieldType::RespondentSelection => RawItem::RespondentSelection(f),
                FieldType::Referral => RawItem::Referral(f),
            },
        }
    }
}
