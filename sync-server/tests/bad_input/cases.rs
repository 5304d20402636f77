//! The rows of the bad input table, grouped by category (see `mod.rs`).

use std::io::Write;

use serde_json::{json, Value};
use voices_core::sync::protocol::{DICTIONARY_HEADER, NDJSON};
use voices_core::sync::{Hlc, Revision};

use super::{
    json_line, json_of, line, lines, nothing, revision, Ack, Caller, Case, Category, Expect, Sent,
    Setup, FORM,
};

use Ack::{Accepted, Duplicate, Quarantined, Rejected};
use Category::*;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// Row `n`'s revision with `edit` applied to its JSON.
fn edited(n: u64, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut value = json_of(&revision(n));
    edit(&mut value);
    json_line(&value)
}

/// Row `n`'s revision with one more answer.
fn with_answer(n: u64, path: &str, value: Value) -> Vec<u8> {
    edited(n, |v| {
        v["set"][path] = value;
    })
}

/// A device of p1 sent row `n`'s revision first.
fn stored_first(n: u64) -> Option<Setup> {
    Some(Setup {
        caller: Caller::Device,
        revisions: vec![revision(n)],
    })
}

/// The response of row `n`'s revision, edited again by its device (edit 2, having seen 1).
fn second_edit(n: u64) -> Revision {
    let first = revision(n);
    let mut next = first.clone();
    next.id = format!("{}-2", first.id);
    next.seq = 2;
    next.hlc = Hlc::new(first.hlc.wall_ms + 1_000, 0);
    next.set = [("/village".to_owned(), Some("Second edit".into()))].into();
    next
}

fn pull(after: &str) -> Sent {
    Sent::get(
        Caller::Coordinator,
        format!("/api/v1/projects/p1/responses?after={after}"),
    )
}

fn export(query: &str) -> Sent {
    Sent::get(
        Caller::Coordinator,
        format!("/api/v1/projects/p1/forms/{FORM}/export?{query}"),
    )
}

fn login(content_type: &str, body: impl Into<Vec<u8>>) -> Sent {
    Sent::post(Caller::Nobody, "/api/v1/login", content_type, body.into())
}

/// `PUT /responses/{id}/review` by a coordinator (its rules are checked before the id).
fn decide(body: Value) -> Sent {
    Sent {
        method: "PUT",
        ..Sent::post(
            Caller::Coordinator,
            "/api/v1/projects/p1/responses/any/review",
            "application/json",
            body.to_string().into_bytes(),
        )
    }
}

fn review(body: impl Into<Vec<u8>>) -> Sent {
    Sent::post(
        Caller::Coordinator,
        "/api/v1/projects/p1/reviews",
        "application/json",
        body.into(),
    )
}

/// `PUT /device-policy` of p1 by a coordinator.
fn set_policy(body: Value) -> Sent {
    Sent {
        method: "PUT",
        ..Sent::post(
            Caller::Coordinator,
            "/api/v1/projects/p1/device-policy",
            "application/json",
            body.to_string().into_bytes(),
        )
    }
}

/// A coordinator's `PUT` of p1 (`path` after `/api/v1/projects/p1`).
fn put_p1(path: &str, body: Value) -> Sent {
    Sent {
        method: "PUT",
        ..Sent::post(
            Caller::Coordinator,
            format!("/api/v1/projects/p1{path}"),
            "application/json",
            body.to_string().into_bytes(),
        )
    }
}

/// An admin's JSON request about teams of p1 (`path` after `/api/v1/projects/p1`).
fn teams(method: &'static str, caller: Caller, path: &str, body: Value) -> Sent {
    Sent {
        method,
        ..Sent::post(
            caller,
            format!("/api/v1/projects/p1{path}"),
            "application/json",
            body.to_string().into_bytes(),
        )
    }
}

/// A path `depth` repeat levels deep under `/r[1]`, ending in field `x`.
fn deep_path(depth: usize) -> String {
    let mut path = "/r[1]".repeat(depth);
    path.push_str("/x");
    path
}

#[rustfmt::skip]
pub fn cases() -> Vec<Case> {
    let rev = |name, category, input, note, send, expect| Case {
        name, category, input, note, setup: nothing, send, expect,
    };
    let invalid = || Expect::acks(&[Rejected("invalid_revision")]);
    vec![
        // ── sizes ──────────────────────────────────────────────────────────────
        rev("sizes_empty_body", Sizes, "an empty upload body", "",
            |_| Sent::upload(Vec::new()), Expect::acks(&[])),
        rev("sizes_body_over_the_limit", Sizes, "a body over `max_body_bytes` (16 MiB)", "`limit` given",
            |_| Sent::upload(vec![b' '; (16 << 20) + 1]), Expect::Refused(413, "payload_too_large")),
        rev("sizes_declared_length_over_the_limit", Sizes, "`Content-Length` over the limit, body small", "refused before reading",
            |n| Sent::upload(line(&revision(n))).header("content-length", (16u64 << 20).to_string() + "0"),
            Expect::Refused(413, "payload_too_large")),
        rev("sizes_too_many_records", Sizes, "10,001 records in one batch", "`limit` 10,000",
            |_| Sent::upload(b"{}\n".repeat(10_001)), Expect::Refused(413, "too_many_records")),
        rev("sizes_id_over_128_characters", Sizes, "a revision id of 129 characters", "names the field and the limit",
            |n| edited(n, |v| v["id"] = json!("i".repeat(129))).pipe(Sent::upload), invalid()),
        rev("sizes_response_id_over_128_characters", Sizes, "a response id of 10,000 characters", "",
            |n| edited(n, |v| v["response"] = json!("r".repeat(10_000))).pipe(Sent::upload), invalid()),
        rev("sizes_answer_over_64_kib", Sizes, "an answer of 64 KiB + 1", "",
            |n| with_answer(n, "/village", json!("v".repeat(64 * 1024 + 1))).pipe(Sent::upload), invalid()),
        rev("sizes_answer_of_64_kib", Sizes, "an answer of exactly 64 KiB", "stored whole",
            |n| with_answer(n, "/village", json!("v".repeat(64 * 1024))).pipe(Sent::upload), Expect::acks(&[Accepted])),
        rev("sizes_too_many_changes", Sizes, "10,001 answers in one revision", "",
            |n| edited(n, |v| {
                let set = v["set"].as_object_mut().unwrap();
                for i in 0..10_001 { set.insert(format!("/extra_{i}"), json!("x")); }
            }).pipe(Sent::upload), invalid()),
        rev("sizes_path_of_100_kib", Sizes, "an answer path of 100 KiB", "paths are at most 1,024 bytes",
            |n| with_answer(n, &format!("/{}", "a".repeat(100 * 1024)), json!("x")).pipe(Sent::upload), invalid()),
        rev("sizes_pull_limit_huge", Sizes, "a pull page `limit` of 10^9", "clamped to 1,000",
            |_| pull("&limit=1000000000"), Expect::Read { status: 200, items: None }),
        rev("sizes_pull_limit_not_a_number", Sizes, "a pull `limit` that is not a number", "",
            |_| pull("&limit=lots"), Expect::Refused(400, "bad_query")),
        rev("sizes_login_body_over_4_kib", Sizes, "a `/login` body of 5 KiB", "`limit` 4,096",
            |_| login("application/json", json!({"user": "u", "password": "p".repeat(5 << 10)}).to_string()),
            Expect::Refused(413, "payload_too_large")),
        rev("sizes_review_comment_too_long", Sizes, "a review comment over 2,000 characters", "",
            |_| review(json!({"ids": ["x"], "state": "approved", "comment": "c".repeat(2_001)}).to_string()),
            Expect::Refused(400, "invalid")),
        rev("sizes_field_comment_too_long", Sizes, "a send-back's comment on an answer over 2,000 characters", "",
            |_| decide(json!({"state": "sent_back", "comment": "c", "fields": {"/village": "c".repeat(2_001)}})),
            Expect::Refused(400, "invalid")),
        rev("sizes_policy_idle_lock_under_30_s", Sizes, "a device policy locking the app after 10 s without use", "names the value and the range (30 s to 12 h)",
            |_| set_policy(json!({"idle_lock_seconds": 10, "retention_days": 30})), Expect::Refused(400, "bad_policy")),
        rev("sizes_policy_retention_over_10_years", Sizes, "a device policy keeping answers 3,651 days", "names the value and the range (0 to 3,650)",
            |_| set_policy(json!({"idle_lock_seconds": 300, "retention_days": 3651})), Expect::Refused(400, "bad_policy")),
        rev("sizes_profile_sex_unknown_word", Sizes, "an enumerator profile whose sex is `woman`", "names the value and the three accepted",
            |_| put_p1("/devices/tab-a/profile", json!({"sex": "woman"})), Expect::Refused(400, "bad_profile")),
        rev("sizes_neutral_name_over_60_characters", Sizes, "a neutral name of 61 characters", "a window title is at most 60",
            |_| put_p1("/presentation", json!({"neutral_name": "n".repeat(61)})), Expect::Refused(400, "bad_presentation")),
        rev("sizes_send_back_without_a_comment", Sizes, "a send-back whose comments are blank", "it must say what to fix",
            |_| decide(json!({"state": "sent_back", "comment": "  ", "fields": {"/village": " "}})),
            Expect::Refused(400, "comment_required")),

        // ── depth ──────────────────────────────────────────────────────────────
        rev("depth_json_nested_100000_deep", Depth, "a line of 100,000 nested arrays", "the JSON parser's depth limit",
            |_| Sent::upload(format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
            Expect::acks(&[Rejected("bad_json")])),
        rev("depth_json_nested_in_a_revision", Depth, "a revision whose `set` holds 10,000 nested objects", "",
            |n| {
                let deep = format!("\"set\":{{\"/deep\":{}1{},", "{\"a\":".repeat(10_000), "}".repeat(10_000));
                Sent::upload(String::from_utf8(line(&revision(n))).unwrap().replacen("\"set\":{", &deep, 1).into_bytes())
            },
            Expect::acks(&[Rejected("bad_json")])),
        rev("depth_path_33_repeats_deep", Depth, "a path 33 repeat levels deep", "paths are at most 32 steps",
            |n| with_answer(n, &deep_path(33), json!("x")).pipe(Sent::upload), invalid()),
        rev("depth_path_100000_repeats_deep", Depth, "a path 100,000 repeat levels deep (600 KB)", "refused before any tree is built",
            |n| with_answer(n, &deep_path(100_000), json!("x")).pipe(Sent::upload), invalid()),
        rev("depth_json_body_nested", Depth, "a JSON body of 100,000 nested arrays (review)", "",
            |_| review(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))), Expect::Refused(400, "bad_json")),

        // ── encodings ──────────────────────────────────────────────────────────
        rev("encodings_invalid_utf8", Encodings, "a line that is not UTF-8 (`0xff`)", "with the byte offset; other lines processed",
            |n| Sent::upload([b"\xff\xfe{}\n".to_vec(), line(&revision(n))].concat()),
            Expect::acks(&[Rejected("invalid_utf8"), Accepted])),
        rev("encodings_overlong_utf8", Encodings, "an overlong UTF-8 encoding of `/` (`0xc0 0xaf`) in a path", "",
            |n| {
                let mut bytes = line(&revision(n));
                let at = bytes.windows(8).position(|w| w == b"\"/villag").unwrap() + 1;
                bytes.splice(at..at + 1, [0xc0, 0xaf]);
                Sent::upload(bytes)
            },
            Expect::acks(&[Rejected("invalid_utf8")])),
        rev("encodings_utf8_surrogate_bytes", Encodings, "UTF-8 bytes of a surrogate (`0xed 0xa0 0x80`)", "",
            |_| Sent::upload(b"{\"id\":\"\xed\xa0\x80\"}\n".to_vec()), Expect::acks(&[Rejected("invalid_utf8")])),
        rev("encodings_lone_surrogate_escape", Encodings, "a JSON escape of a lone surrogate (`\\ud800`) in an answer", "",
            |n| {
                let text = String::from_utf8(line(&revision(n))).unwrap().replacen("Kijiji", "\\ud800", 1);
                Sent::upload(text.into_bytes())
            },
            Expect::acks(&[Rejected("bad_json")])),
        rev("encodings_bom_before_the_first_line", Encodings, "a UTF-8 byte order mark before the first line", "the mark is skipped",
            |n| Sent::upload([b"\xef\xbb\xbf".to_vec(), line(&revision(n))].concat()), Expect::acks(&[Accepted])),
        rev("encodings_bom_inside", Encodings, "a byte order mark at the start of a later line", "",
            |n| Sent::upload([line(&revision(n)), b"\xef\xbb\xbf".to_vec(), line(&revision(n + 1))].concat()),
            Expect::acks(&[Accepted, Rejected("bad_json")])),
        rev("encodings_utf16", Encodings, "a batch in UTF-16", "",
            |n| {
                let text = String::from_utf8(line(&revision(n))).unwrap();
                let mut bytes = vec![0xff, 0xfe];
                bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
                Sent::upload(bytes)
            },
            Expect::acks(&[Rejected("invalid_utf8"), Rejected("bad_json")])),
        rev("encodings_control_characters_in_an_answer", Encodings, "an answer holding control characters (ESC, BEL, DEL)", "stored and read back as sent",
            |n| with_answer(n, "/village", json!("a\u{7}b\u{1b}[31mc\u{7f}")).pipe(Sent::upload), Expect::acks(&[Accepted])),
        rev("encodings_nul_in_an_answer", Encodings, "an answer holding NUL (`\\u0000`)", "PostgreSQL text cannot hold NUL, so neither backend takes it",
            |n| with_answer(n, "/village", json!("a\u{0}b")).pipe(Sent::upload), invalid()),
        rev("encodings_nul_in_an_id", Encodings, "a revision id holding NUL", "",
            |n| edited(n, |v| v["id"] = json!(format!("id\u{0}{n}"))).pipe(Sent::upload), invalid()),
        rev("encodings_newline_in_an_id", Encodings, "a response id holding a line break", "ids are printable",
            |n| edited(n, |v| v["response"] = json!(format!("r\n{n}"))).pipe(Sent::upload), invalid()),
        rev("encodings_crlf_line_ends", Encodings, "CRLF line ends", "",
            |n| Sent::upload([lines(&[revision(n)]).strip_suffix(b"\n").unwrap().to_vec(), b"\r\n".to_vec(), line(&revision(n + 1))].concat()),
            Expect::acks(&[Accepted, Accepted])),

        // ── bombs ──────────────────────────────────────────────────────────────
        rev("bombs_zstd", Bombs, "a zstd body that decompresses past `max_decompressed_bytes` (64 MiB)", "`limit` given; decompression stops at the limit",
            |_| Sent::upload(zstd(&vec![b'\n'; 65 << 20])).header("content-encoding", "zstd"),
            Expect::Refused(413, "decompressed_too_large")),
        rev("bombs_gzip", Bombs, "a gzip body that decompresses past the limit", "",
            |_| Sent::upload(gzip(&vec![b' '; 65 << 20])).header("content-encoding", "gzip"),
            Expect::Refused(413, "decompressed_too_large")),
        rev("bombs_gzip_in_gzip", Bombs, "gzip inside gzip, declared once", "the inner stream is read as lines (not UTF-8)",
            // A fixed inner stream, so the row does not change with its place in the table.
            |_| Sent::upload(gzip(&gzip(&line(&revision(7))))).header("content-encoding", "gzip"),
            Expect::EveryLine(Rejected("invalid_utf8"))),
        rev("bombs_zstd_garbage", Bombs, "`Content-Encoding: zstd` on bytes that are not zstd", "not taken for a cut-off upload",
            |n| Sent::upload(line(&revision(n))).header("content-encoding", "zstd"),
            Expect::Refused(400, "bad_encoding")),
        rev("bombs_gzip_garbage", Bombs, "`Content-Encoding: gzip` on bytes that are not gzip", "",
            |n| Sent::upload(line(&revision(n))).header("content-encoding", "gzip"),
            Expect::Refused(400, "bad_encoding")),
        rev("bombs_gzip_cut_off", Bombs, "a gzip body cut off in the middle", "the complete lines are stored, the partial one is not",
            |n| {
                let whole = gzip(&lines(&[revision(n), revision(n + 1)]));
                Sent::upload(whole[..whole.len() - 12].to_vec()).header("content-encoding", "gzip")
            },
            Expect::Acks { acks: vec![Accepted], incomplete: true }),
        rev("bombs_unknown_dictionary", Bombs, "a zstd dictionary header naming no form version", "",
            |n| Sent::upload(zstd(&line(&revision(n)))).header("content-encoding", "zstd").header(DICTIONARY_HEADER, "00".repeat(32)),
            Expect::Refused(400, "unknown_dictionary")),

        // ── content types ──────────────────────────────────────────────────────
        rev("content_types_xml_upload", ContentTypes, "an upload sent as `application/xml`", "",
            |n| Sent::upload(line(&revision(n))).header("content-type", "application/xml"),
            Expect::Refused(415, "unsupported_media_type")),
        rev("content_types_json_upload", ContentTypes, "an upload sent as `application/json`", "",
            |n| Sent::upload(line(&revision(n))).header("content-type", "application/json"),
            Expect::Refused(415, "unsupported_media_type")),
        rev("content_types_no_content_type", ContentTypes, "an upload without `Content-Type`", "",
            |n| Sent::upload(line(&revision(n))).without("content-type"),
            Expect::Refused(415, "unsupported_media_type")),
        rev("content_types_ndjson_with_charset", ContentTypes, "`application/x-ndjson; charset=utf-8`", "parameters are ignored",
            |n| Sent::upload(line(&revision(n))).header("content-type", format!("{NDJSON}; charset=utf-8")),
            Expect::acks(&[Accepted])),
        rev("content_types_unknown_encoding", ContentTypes, "`Content-Encoding: br`", "",
            |n| Sent::upload(line(&revision(n))).header("content-encoding", "br"),
            Expect::Refused(415, "unsupported_encoding")),
        rev("content_types_unknown_protocol", ContentTypes, "a protocol version header of 2", "",
            |n| Sent::upload(line(&revision(n))).header("voices-protocol", "2"),
            Expect::Refused(400, "unsupported_protocol")),
        rev("content_types_device_feed_version_3", ContentTypes, "a device feed asked in `version=3`", "names the versions the server sends (1 and 2)",
            |_| Sent::get(Caller::Device, "/api/v1/projects/p1/device/feed?version=3"), Expect::Refused(400, "unsupported_feed_version")),
        rev("content_types_device_feed_version_garbage", ContentTypes, "a device feed asked in `version=two`", "",
            |_| Sent::get(Caller::Device, "/api/v1/projects/p1/device/feed?version=two"), Expect::Refused(400, "bad_query")),
        rev("content_types_device_feed_version_2", ContentTypes, "a device feed asked in `version=2`", "`feed_version` 2: withdrawn responses are items marked `withdrawn`; without `version`, version 1 as before",
            |_| Sent::get(Caller::Device, "/api/v1/projects/p1/device/feed?version=2"), Expect::Read { status: 200, items: None }),
        rev("content_types_not_json_on_a_json_endpoint", ContentTypes, "a review body that is not JSON", "",
            |_| review("approve them all"), Expect::Refused(400, "bad_json")),
        rev("content_types_json_of_the_wrong_shape", ContentTypes, "a review body of the wrong shape (`ids` a string)", "",
            |_| review(json!({"ids": "r1", "state": "approved"}).to_string()), Expect::Refused(400, "bad_json")),
        rev("content_types_policy_negative_retention", ContentTypes, "a device policy with `retention_days` −1", "",
            |_| set_policy(json!({"idle_lock_seconds": 300, "retention_days": -1})), Expect::Refused(400, "bad_json")),
        rev("content_types_bad_export_format", ContentTypes, "an export `format=xlsx`", "",
            |_| export("format=xlsx"), Expect::Refused(400, "bad_format")),
        rev("content_types_bad_boolean", ContentTypes, "an export `pii=maybe`", "",
            |_| export("pii=maybe"), Expect::Refused(400, "bad_query")),

        // ── cursors ────────────────────────────────────────────────────────────
        rev("cursors_garbage", Cursors, "a pull cursor `abc`", "",
            |_| pull("abc"), Expect::Refused(400, "bad_cursor")),
        rev("cursors_negative", Cursors, "a pull cursor `-1`", "",
            |_| pull("-1"), Expect::Refused(400, "bad_cursor")),
        rev("cursors_beyond_64_bits", Cursors, "a pull cursor of 30 digits", "",
            |_| pull(&"9".repeat(30)), Expect::Refused(400, "bad_cursor")),
        rev("cursors_fraction", Cursors, "a pull cursor `1.5`", "",
            |_| pull("1.5"), Expect::Refused(400, "bad_cursor")),
        rev("cursors_largest", Cursors, "the largest cursor (2^63 − 1)", "an empty page; `next` is the same cursor",
            |_| pull(&i64::MAX.to_string()), Expect::Read { status: 200, items: Some(0) }),
        rev("cursors_of_another_project", Cursors, "a cursor p2's feed gave, used on p1", "positions are per project: it is only a number in p1's feed, and p2's rows never show",
            |_| pull("1"), Expect::Read { status: 200, items: None }),
        rev("cursors_device_feed_garbage", Cursors, "a device feed cursor `abc`", "",
            |_| Sent::get(Caller::Device, "/api/v1/projects/p1/device/feed?after=abc"), Expect::Refused(400, "bad_cursor")),
        rev("cursors_export_since_garbage", Cursors, "an export `since=yesterday`", "",
            |_| export("since=yesterday"), Expect::Refused(400, "bad_cursor")),
        rev("cursors_table_after_garbage", Cursors, "a console table `after` that is no cursor", "",
            |_| Sent::get(Caller::Coordinator, "/api/v1/projects/p1/table?after=bm90IGEgY3Vyc29y"), Expect::Refused(400, "bad_cursor")),

        // ── paths ──────────────────────────────────────────────────────────────
        rev("paths_field_comment_not_an_answer_path", Paths, "a send-back commenting on `resp_age` (no leading `/`)", "names the path",
            |_| decide(json!({"state": "sent_back", "comment": "c", "fields": {"resp_age": "c"}})),
            Expect::Refused(400, "bad_path")),
        rev("paths_huge_instance_number", Paths, "an instance number of 999,999,999 (`/members[999999999]/age`)", "nothing is allocated for it",
            |n| with_answer(n, "/members[999999999]/age", json!("30")).pipe(Sent::upload), invalid()),
        rev("paths_instance_1001", Paths, "instance 1,001 (one past `MAX_INSTANCES`)", "",
            |n| with_answer(n, "/members[1001]/age", json!("30")).pipe(Sent::upload), invalid()),
        rev("paths_instance_zero", Paths, "instance 0 (`/members[0]/age`)", "",
            |n| with_answer(n, "/members[0]/age", json!("30")).pipe(Sent::upload), invalid()),
        rev("paths_instance_negative", Paths, "instance −1", "",
            |n| with_answer(n, "/members[-1]/age", json!("30")).pipe(Sent::upload), invalid()),
        rev("paths_count_not_a_number", Paths, "a repeat count `/members[]` of `many`", "",
            |n| with_answer(n, "/members[]", json!("many")).pipe(Sent::upload), invalid()),
        rev("paths_count_over_the_limit", Paths, "a repeat count of 1,000,000", "",
            |n| with_answer(n, "/members[]", json!("1000000")).pipe(Sent::upload), invalid()),
        rev("paths_no_leading_slash", Paths, "a path without its leading `/` (`village`)", "",
            |n| with_answer(n, "village", json!("x")).pipe(Sent::upload), invalid()),
        rev("paths_empty", Paths, "an empty path", "",
            |n| with_answer(n, "", json!("x")).pipe(Sent::upload), invalid()),
        rev("paths_dot_dot", Paths, "a path `/../village`", "",
            |n| with_answer(n, "/../village", json!("x")).pipe(Sent::upload), invalid()),
        rev("paths_bad_name", Paths, "a step that is no name (`/1st`)", "",
            |n| with_answer(n, "/1st", json!("x")).pipe(Sent::upload), invalid()),
        rev("paths_instance_as_value", Paths, "a value at an instance path (`/members[1]`)", "",
            |n| with_answer(n, "/members[1]", json!("x")).pipe(Sent::upload), invalid()),
        rev("paths_unknown_field", Paths, "a well-formed path the form does not have", "stored; the reason names the field",
            |n| with_answer(n, "/no_such_field", json!("x")).pipe(Sent::upload), Expect::acks(&[Quarantined])),
        rev("paths_bad_privacy_key", Paths, "a privacy outcome keyed by a count path", "",
            |n| edited(n, |v| v["privacy"] = json!({"/members[]": {"outcome": "private", "at": "2026-11-26T08:00:00Z"}})).pipe(Sent::upload), invalid()),

        // ── ids ────────────────────────────────────────────────────────────────
        rev("ids_empty_revision_id", Ids, "an empty revision id", "",
            |n| edited(n, |v| v["id"] = json!("")).pipe(Sent::upload), invalid()),
        rev("ids_blank_response_id", Ids, "a response id of spaces", "",
            |n| edited(n, |v| v["response"] = json!("   ")).pipe(Sent::upload), invalid()),
        rev("ids_missing_field", Ids, "a revision without `actor`", "",
            |n| edited(n, |v| { v.as_object_mut().unwrap().remove("actor"); }).pipe(Sent::upload), Expect::acks(&[Rejected("bad_json")])),
        rev("ids_seq_zero", Ids, "edit number 0", "",
            |n| edited(n, |v| v["seq"] = json!(0)).pipe(Sent::upload), invalid()),
        rev("ids_seq_negative", Ids, "edit number −1", "",
            |n| edited(n, |v| v["seq"] = json!(-1)).pipe(Sent::upload), Expect::acks(&[Rejected("bad_json")])),
        rev("ids_seq_beyond_64_bits", Ids, "edit number 2^64", "",
            |n| {
                let text = String::from_utf8(line(&revision(n))).unwrap().replacen("\"seq\":1", "\"seq\":18446744073709551616", 1);
                Sent::upload(text.into_bytes())
            },
            Expect::acks(&[Rejected("bad_json")])),
        rev("ids_seq_largest", Ids, "edit number 2^63 − 1", "stored",
            |n| edited(n, |v| v["seq"] = json!(i64::MAX)).pipe(Sent::upload), Expect::acks(&[Accepted])),
        rev("ids_seq_above_63_bits", Ids, "edit number 2^63 (beyond the databases' 64-bit signed integers)", "",
            |n| edited(n, |v| v["seq"] = json!(1u64 << 63)).pipe(Sent::upload), invalid()),
        rev("ids_another_actor", Ids, "a revision whose `actor` is another device", "",
            |n| Sent::upload(line(&Revision { actor: "tab-b".into(), ..revision(n) })), Expect::acks(&[Rejected("wrong_actor")])),
        rev("ids_seen_itself", Ids, "`seen` claiming the revision's own edit", "",
            |n| edited(n, |v| v["seen"] = json!({"tab-a": 1})).pipe(Sent::upload), invalid()),
        rev("ids_unicode", Ids, "ids in any script (`ответ-🙂`)", "",
            |n| edited(n, |v| { v["id"] = json!(format!("ревизия-🙂-{n}")); v["response"] = json!(format!("ответ-🙂-{n}")); }).pipe(Sent::upload),
            Expect::acks(&[Accepted])),
        rev("ids_unknown_form", Ids, "a revision of a form the project does not have", "stored, with the reason",
            |n| edited(n, |v| v["form"] = json!("no_such_form")).pipe(Sent::upload), Expect::acks(&[Quarantined])),
        rev("ids_unknown_version", Ids, "a revision of an unpublished version", "stored, with the reason",
            |n| edited(n, |v| v["version"] = json!("1999")).pipe(Sent::upload), Expect::acks(&[Quarantined])),
        rev("ids_unknown_top_level_field", Ids, "a revision with a field the protocol does not have", "the protocol version decides the fields; the reason names it",
            |n| edited(n, |v| v["colour"] = json!("blue")).pipe(Sent::upload), Expect::acks(&[Rejected("bad_json")])),

        // ── clocks ─────────────────────────────────────────────────────────────
        rev("clocks_far_future", Clocks, "an HLC in the year 33658 (10^15 ms)", "display order only; the console still shows the history",
            |n| edited(n, |v| v["hlc"] = json!("1000000000000000.0")).pipe(Sent::upload), Expect::acks(&[Accepted])),
        rev("clocks_largest", Clocks, "the largest HLC (2^64 − 1 ms, counter 2^32 − 1)", "",
            |n| edited(n, |v| v["hlc"] = json!(format!("{}.{}", u64::MAX, u32::MAX))).pipe(Sent::upload), Expect::acks(&[Accepted])),
        rev("clocks_zero", Clocks, "an HLC of 0 (1970)", "",
            |n| edited(n, |v| v["hlc"] = json!("0.0")).pipe(Sent::upload), Expect::acks(&[Accepted])),
        rev("clocks_beyond_64_bits", Clocks, "an HLC of 2^64 ms", "",
            |n| edited(n, |v| v["hlc"] = json!("18446744073709551616.0")).pipe(Sent::upload), Expect::acks(&[Rejected("bad_json")])),
        rev("clocks_negative", Clocks, "an HLC of −1", "",
            |n| edited(n, |v| v["hlc"] = json!("-1.0")).pipe(Sent::upload), Expect::acks(&[Rejected("bad_json")])),
        rev("clocks_not_a_stamp", Clocks, "an HLC as a date (`2026-11-26`)", "",
            |n| edited(n, |v| v["hlc"] = json!("2026-11-26")).pipe(Sent::upload), Expect::acks(&[Rejected("bad_json")])),

        // ── replay and reordering ──────────────────────────────────────────────
        Case { name: "replay_same_revision_again", category: Replay, input: "a stored revision sent again", note: "", setup: stored_first,
            send: |n| Sent::upload(line(&revision(n))), expect: Expect::acks(&[Duplicate]) },
        Case { name: "replay_respelled", category: Replay, input: "a stored revision sent again with its keys in another order and other spacing", note: "the canonical JSON is compared",
            setup: stored_first,
            send: |n| {
                let value = json_of(&revision(n));
                let mut fields: Vec<(String, Value)> = value.as_object().unwrap().clone().into_iter().collect();
                fields.reverse();
                let text = fields.iter().map(|(k, v)| format!("{} :  {}", json!(k), v)).collect::<Vec<_>>().join(" , ");
                Sent::upload(format!("{{ {text} }}\n").into_bytes())
            },
            expect: Expect::acks(&[Duplicate]) },
        Case { name: "replay_same_id_other_bytes", category: Replay, input: "a stored revision id with different content", note: "the stored revision is untouched",
            setup: stored_first,
            send: |n| with_answer(n, "/village", json!("Changed")).pipe(Sent::upload), expect: Expect::acks(&[Rejected("revision_id_conflict")]) },
        Case { name: "replay_edit_number_reused", category: Replay, input: "a new id reusing a stored edit number (`actor`, `seq`)", note: "",
            setup: stored_first,
            send: |n| edited(n, |v| { v["id"] = json!(format!("other-{n}")); v["set"]["/village"] = json!("Other"); }).pipe(Sent::upload),
            expect: Expect::acks(&[Rejected("edit_number_reused")]) },
        rev("replay_twice_in_one_batch", Replay, "the same revision twice in one batch", "",
            |n| Sent::upload(lines(&[revision(n), revision(n)])), Expect::acks(&[Accepted, Duplicate])),
        rev("replay_later_edit_first", Replay, "edit 2 of a response before edit 1, in one batch", "the merge does not depend on arrival order",
            |n| Sent::upload(lines(&[second_edit(n), revision(n)])), Expect::acks(&[Accepted, Accepted])),
        Case { name: "replay_later_edit_alone", category: Replay, input: "edit 2 of a response whose edit 1 never arrived", note: "stored (flagged: the form's required answers are in edit 1); edit 1 merges when it comes",
            setup: nothing,
            send: |n| Sent::upload(line(&second_edit(n))), expect: Expect::acks(&[Quarantined]) },

        // ── projects ───────────────────────────────────────────────────────────
        rev("projects_unknown", Projects, "an upload to a project that does not exist, by an admin", "",
            |n| Sent { uri: "/api/v1/projects/nope/revisions".into(), caller: Caller::Admin, ..Sent::upload(line(&revision(n))) }, Expect::Refused(404, "unknown_project")),
        rev("projects_unknown_to_a_device", Projects, "an upload to a project that does not exist, by a device", "a device learns nothing about other projects",
            |n| Sent { uri: "/api/v1/projects/nope/revisions".into(), ..Sent::upload(line(&revision(n))) }, Expect::Refused(403, "wrong_project")),
        rev("projects_another", Projects, "an upload to another project", "",
            |n| Sent { uri: "/api/v1/projects/p2/revisions".into(), ..Sent::upload(line(&revision(n))) }, Expect::Refused(403, "wrong_project")),
        rev("projects_id_of_10000_characters", Projects, "a project id of 10,000 characters", "",
            |n| Sent { uri: format!("/api/v1/projects/{}/revisions", "p".repeat(10_000)), caller: Caller::Admin, ..Sent::upload(line(&revision(n))) }, Expect::Refused(404, "unknown_project")),
        rev("projects_id_not_utf8", Projects, "a project id percent-encoding invalid UTF-8 (`%ff`)", "",
            |n| Sent { uri: "/api/v1/projects/%ff/revisions".into(), ..Sent::upload(line(&revision(n))) }, Expect::Refused(400, "bad_path")),
        rev("projects_person_reads_a_device_feed", Projects, "a coordinator's token on `GET /device/feed`", "people read `GET /responses`",
            |_| Sent::get(Caller::Coordinator, "/api/v1/projects/p1/device/feed"), Expect::Refused(403, "forbidden")),
        rev("projects_device_feed_of_another_project", Projects, "a device's token on another project's `device/feed`", "",
            |_| Sent::get(Caller::Device, "/api/v1/projects/p2/device/feed"), Expect::Refused(403, "wrong_project")),
        rev("projects_person_sets_resubmitted", Projects, "a person setting `resubmitted`", "the enumerator's device sets it",
            |_| decide(json!({"state": "resubmitted"})), Expect::Refused(400, "bad_review")),
        rev("projects_no_token", Projects, "an upload without a token", "",
            |n| Sent { caller: Caller::Nobody, ..Sent::upload(line(&revision(n))) }, Expect::Refused(401, "unauthorized")),
        rev("projects_garbage_token", Projects, "an `Authorization` header that is not a bearer token", "",
            |n| Sent { caller: Caller::Nobody, ..Sent::upload(line(&revision(n))) }.header("authorization", "Basic dXNlcjpwYXNz"), Expect::Refused(401, "unauthorized")),
        // ── teams ──────────────────────────────────────────────────────────────
        rev("teams_name_empty", Teams, "a team named with spaces only", "",
            |_| teams("POST", Caller::Admin, "/teams", json!({"name": "   "})), Expect::Refused(400, "bad_team_name")),
        rev("teams_name_of_81_characters", Teams, "a team name of 81 characters", "at most 80",
            |_| teams("POST", Caller::Admin, "/teams", json!({"name": "n".repeat(81)})), Expect::Refused(400, "bad_team_name")),
        rev("teams_name_with_a_line_break", Teams, "a team name with a line break", "",
            |_| teams("POST", Caller::Admin, "/teams", json!({"name": "North\nSouth"})), Expect::Refused(400, "bad_team_name")),
        rev("teams_made_by_a_coordinator", Teams, "a coordinator adding a team", "admins manage teams",
            |_| teams("POST", Caller::Coordinator, "/teams", json!({"name": "North"})), Expect::Refused(403, "forbidden")),
        rev("teams_unknown_id", Teams, "renaming a team id the project does not have", "",
            |_| teams("PATCH", Caller::Admin, "/teams/999", json!({"name": "North"})), Expect::Refused(404, "unknown_team")),
        rev("teams_id_not_a_number", Teams, "a team id that is not a number (`/teams/north`)", "",
            |_| teams("DELETE", Caller::Admin, "/teams/north", json!({})), Expect::Refused(404, "unknown_team")),
        rev("teams_device_to_a_missing_team", Teams, "a device put in a team the project does not have", "",
            |_| teams("PUT", Caller::Admin, "/teams/999/devices/tab-a", json!({})), Expect::Refused(404, "unknown_team")),
        rev("teams_limit_to_no_team", Teams, "a coordinator limited to an empty list of teams", "`null` lifts a limit",
            |_| teams("PUT", Caller::Admin, "/members/cora/teams", json!({"teams": []})), Expect::Refused(400, "no_teams")),
        rev("teams_limit_to_a_missing_team", Teams, "a coordinator limited to a team the project does not have", "",
            |_| teams("PUT", Caller::Admin, "/members/cora/teams", json!({"teams": [999]})), Expect::Refused(404, "unknown_team")),
        rev("teams_limit_of_a_non_member", Teams, "limiting a person who is not a member of the project", "",
            |_| teams("PUT", Caller::Admin, "/members/nobody/teams", json!({"teams": null})), Expect::Refused(404, "not_member")),
    ]
}

/// `value.pipe(f)`: `f(value)`, to keep a row's request on one line.
trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}

impl<T> Pipe for T {}
