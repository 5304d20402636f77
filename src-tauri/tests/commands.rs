//! Commands through Tauri's mock runtime: the same IPC path the UI uses.

use std::path::Path;

mod mock_app;

use mock_app::{mock_app as app, mock_app_in as app_in, MockApp};
use serde_json::{json, Value};

fn fixture_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/household.json"),
    )
    .unwrap()
}

#[test]
fn a_form_is_imported_started_and_answered_through_commands() {
    let app = app();
    let report = app
        .call(
            "import_form_text",
            Some(json!({"file_name": "household.json", "text": fixture_text()})),
        )
        .unwrap();
    assert_eq!(report["outcome"], "added");

    let forms = app.call("list_forms", None).unwrap();
    let form = forms
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["form_id"] == "app_fixture_household")
        .unwrap();
    assert_eq!(form["version"], "2026-01");

    let state = app
        .call(
            "start_interview",
            Some(json!({"form_id": "app_fixture_household", "version": null, "language": "ar"})),
        )
        .unwrap();
    assert_eq!(state["rtl"], true);
    assert_eq!(state["page"]["kind"], "consent");
    let id = state["response_id"].as_str().unwrap().to_owned();

    let state = app
        .call(
            "record_consent",
            Some(json!({"response_id": id, "given": true})),
        )
        .unwrap();
    assert_eq!(state["page"]["key"], "/household");

    let saved = app
        .call(
            "set_answer",
            Some(json!({"response_id": id, "path": "/village", "value": "Kolo", "page": 1})),
        )
        .unwrap();
    assert!(saved["saved_at"].as_str().unwrap().starts_with("20"));
    let village = saved["page"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "village")
        .unwrap();
    assert_eq!(village["value"], "Kolo");
}

#[test]
fn errors_reach_the_ui_as_kind_and_message() {
    let app = app();
    let err = app
        .call(
            "set_answer",
            Some(json!({"response_id": "missing", "path": "/a", "value": "1", "page": 0})),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "not_found");
    assert!(
        err["message"].as_str().unwrap().contains("missing"),
        "{err}"
    );

    let err = app
        .call(
            "record_paradata",
            Some(json!({"response_id": "x", "event": "tickle", "path": null})),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");

    let report = app
        .call(
            "import_form_text",
            Some(json!({"file_name": "broken.json", "text": "{\"id\": "})),
        )
        .unwrap();
    assert_eq!(report["outcome"], "rejected");
    assert_eq!(report["diagnostics"][0]["line"], 1);
}

#[test]
fn a_malformed_request_is_refused_without_harm() {
    let app = app();
    let err = app
        .call("start_interview", Some(json!({"form": 3})))
        .unwrap_err();
    assert!(err.to_string().contains("form_id"), "{err}");
    assert!(app
        .call("list_responses", None)
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn the_safe_exit_returns_a_neutral_screen_without_a_form() {
    let app = app();
    let decoy = app
        .call(
            "safe_exit",
            Some(json!({"response_id": null, "form_id": null})),
        )
        .unwrap();
    assert_eq!(decoy["title"], "Notes");
    app.call(
        "safe_return",
        Some(json!({"response_id": null, "form_id": null})),
    )
    .unwrap();
}

fn cleaningtools_workbook() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/xlsform/cleaningtools__form.xlsx");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "conformance workbook {} is missing ({e}); it ships in /work/shared/conformance",
            path.display()
        )
    })
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn an_xlsform_workbook_is_imported_and_started_through_commands() {
    let app = app();
    let request = json!({
        "file_name": "cleaningtools__form.xlsx",
        "data_base64": base64_of(&cleaningtools_workbook()),
    });
    let report = app
        .call("import_form_spreadsheet", Some(request.clone()))
        .unwrap();
    assert_eq!(report["outcome"], "added", "{report}");
    let form_id = report["form_id"].as_str().unwrap().to_owned();

    let forms = app.call("list_forms", None).unwrap();
    assert!(
        forms
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["form_id"] == form_id.as_str()),
        "{forms}"
    );
    // The same workbook again is the same version: stored once.
    let again = app.call("import_form_spreadsheet", Some(request)).unwrap();
    assert_eq!(again["outcome"], "already_present", "{again}");

    let state = app
        .call(
            "start_interview",
            Some(json!({"form_id": form_id, "version": null, "language": null})),
        )
        .unwrap();
    assert!(state["page_count"].as_u64().unwrap() >= 1, "{state}");
}

#[test]
fn garbage_bytes_are_rejected_with_a_clear_diagnostic() {
    let app = app();
    let forms_before = app.call("list_forms", None).unwrap();
    let report = app
        .call(
            "import_form_spreadsheet",
            Some(json!({
                "file_name": "notes.xlsx",
                "data_base64": base64_of(b"this is not a spreadsheet"),
            })),
        )
        .unwrap();
    assert_eq!(report["outcome"], "rejected");
    let message = report["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains("cannot read the spreadsheet"), "{message}");
    assert_eq!(
        app.call("list_forms", None).unwrap(),
        forms_before,
        "nothing stored"
    );

    let err = app
        .call(
            "import_form_spreadsheet",
            Some(json!({"file_name": "x.xlsx", "data_base64": "%%%"})),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
}

#[test]
fn sync_commands_before_the_device_is_linked() {
    let app = app();
    let status = app.call("sync_status", None).unwrap();
    assert_eq!(status["phase"], "not_linked");
    assert_eq!(status["link"], Value::Null);
    assert_eq!(status["auto_sync"], true);
    assert_eq!(status["counts"]["pending"], 0);
    let err = app.call("sync_now", None).unwrap_err();
    assert_eq!(err["kind"], "not_provisioned");
    let err = app
        .call("provision_device", Some(json!({"code": "  hello\n"})))
        .unwrap_err();
    assert_eq!(err["kind"], "bad_code");
    assert!(
        err["message"].as_str().unwrap().contains("voices1:"),
        "{err}"
    );
    let status = app
        .call(
            "set_sync_settings",
            Some(json!({"auto_sync": false, "proxy": "http://127.0.0.1:3128"})),
        )
        .unwrap();
    assert_eq!(status["auto_sync"], false);
    assert_eq!(status["proxy"], "http://127.0.0.1:3128");
    let err = app
        .call(
            "set_sync_settings",
            Some(json!({"auto_sync": true, "proxy": "not a url"})),
        )
        .unwrap_err();
    assert_eq!(err["kind"], "invalid_input");
    assert_eq!(app.call("list_outbox", None).unwrap(), json!([]));
    app.call("acknowledge_form_versions", None).unwrap();
    app.call("unlink_device", None).unwrap();
}

#[test]
fn the_app_language_is_kept_across_a_restart() {
    let app = app();
    assert_eq!(
        app.call("app_settings", None).unwrap(),
        json!({"language": null})
    );
    let settings = app
        .call("set_app_language", Some(json!({"language": " ar "})))
        .unwrap();
    assert_eq!(settings, json!({"language": "ar"}));
    for bad in ["", "arabic language", "a", "en_GB", "ar-", "x-123456789"] {
        let err = app
            .call("set_app_language", Some(json!({"language": bad})))
            .unwrap_err();
        assert_eq!(err["kind"], "invalid_input", "{bad:?}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains("language tag"),
            "{err}"
        );
    }
    app.call("set_app_language", Some(json!({"language": "uk"})))
        .unwrap();

    // Close the app and start it again on the same data directory.
    let MockApp { dir, app, window } = app;
    drop(window);
    drop(app);
    let restarted = app_in(dir);
    assert_eq!(
        restarted.call("app_settings", None).unwrap(),
        json!({"language": "uk"}),
        "the last language chosen (not a refused one) is restored"
    );
}
