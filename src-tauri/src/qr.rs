//! Reading QR codes from pictures: a device's provisioning code from a photo or
//! screenshot of what `voices-server device add` prints (or writes with `--qr-png`),
//! so nobody has to type a 200-character code, and the answer to a `barcode` question
//! from a photo of the code. No camera dependency: the enumerator chooses the picture
//! from disk, as forms are loaded.

use std::path::Path;

use serde::Deserialize;
use ts_rs::TS;
use voices_core::sync::protocol::ProvisioningCode;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DecodeImageRequest {
    /// Path of a PNG or JPEG picture on this device.
    pub path: String,
}

/// Pictures larger than this on their long side are scaled down first: a phone photo
/// (12 MP) takes seconds to search at full size, and a QR code that fills a useful part
/// of the frame stays readable.
const MAX_SIDE: u32 = 2000;

#[derive(Debug, Clone, Deserialize, TS)]
pub struct DecodePictureRequest {
    /// The picture's bytes, base64 (what a file chooser in the window gives; it has no path).
    pub data_base64: String,
}

#[tauri::command]
pub fn decode_provisioning_image(request: DecodeImageRequest) -> Result<String> {
    decode_file(Path::new(&request.path))
}

#[tauri::command]
pub fn decode_provisioning_picture(request: DecodePictureRequest) -> Result<String> {
    decode_bytes(&picture_bytes(&request)?)
}

/// The text of the QR code in a picture, for a `barcode` question (the first one read
/// when the picture holds several). One-dimensional barcodes are not read: they are typed.
#[tauri::command]
pub fn read_barcode_picture(request: DecodePictureRequest) -> Result<String> {
    match scan(&picture_bytes(&request)?, |_| true)? {
        Scan::Wanted(text) => Ok(text),
        Scan::Others(_) => Err(Error::NoCodeFound(NO_CODE.to_owned())),
    }
}

fn picture_bytes(request: &DecodePictureRequest) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(request.data_base64.trim())
        .map_err(|e| Error::InvalidInput(format!("the picture did not arrive intact ({e})")))
}

const NO_CODE: &str =
    "no QR code could be read in this picture; take it again closer, flat and in focus";

/// The provisioning code (`voices1:…`) in the picture at `path`.
pub fn decode_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::file(format!("cannot read {}", path.display()), e))?;
    decode_bytes(&bytes).map_err(|e| match e {
        Error::NoCodeFound(m) => Error::NoCodeFound(format!("{}: {m}", path.display())),
        Error::InvalidInput(m) => Error::InvalidInput(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// The provisioning code in a PNG or JPEG picture's bytes.
pub fn decode_bytes(bytes: &[u8]) -> Result<String> {
    match scan(bytes, |text| ProvisioningCode::from_text(text).is_ok())? {
        Scan::Wanted(text) => Ok(text.trim().to_owned()),
        Scan::Others(others) if others.is_empty() => Err(Error::NoCodeFound(NO_CODE.to_owned())),
        Scan::Others(_) => Err(Error::NoCodeFound(
            "the QR code in this picture is not a Voices provisioning code (it does not start with `voices1:`)"
                .to_owned(),
        )),
    }
}

/// What a picture's QR codes gave.
enum Scan {
    /// The first code `wanted` accepted.
    Wanted(String),
    /// None was accepted: every code read (none at all when the list is empty).
    Others(Vec<String>),
}

/// Read the QR codes in a PNG or JPEG picture's bytes until one is `wanted`.
fn scan(bytes: &[u8], wanted: impl Fn(&str) -> bool) -> Result<Scan> {
    let picture = image::load_from_memory(bytes)
        .map_err(|e| Error::InvalidInput(format!("not a readable PNG or JPEG picture ({e})")))?;
    let picture = if picture.width().max(picture.height()) > MAX_SIDE {
        picture.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        picture
    };
    let grey = picture.to_luma8();
    let mut other_codes = Vec::new();
    // The server's terminal QR is drawn light-on-dark; a screenshot of it is inverted.
    for inverted in [false, true] {
        let (w, h) = (grey.width() as usize, grey.height() as usize);
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            let luma = grey.get_pixel(x as u32, y as u32).0[0];
            if inverted {
                255 - luma
            } else {
                luma
            }
        });
        for grid in prepared.detect_grids() {
            let Ok((_, text)) = grid.decode() else {
                continue;
            };
            if wanted(&text) {
                return Ok(Scan::Wanted(text));
            }
            other_codes.push(text);
        }
    }
    Ok(Scan::Others(other_codes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_text() -> String {
        ProvisioningCode {
            server: "http://127.0.0.1:8470".into(),
            project: "kisumu".into(),
            code: "Zk3xQ1b7u0aN4m2rT8yW5cV9pL6sH0dE3fG7jK1qR4".into(),
            certificate_sha256: None,
        }
        .to_text()
    }

    /// The QR code of `text` drawn as the server draws it: `module` pixels per module,
    /// a 4-module quiet zone, dark on light (or light on dark when `inverted`).
    fn qr_picture(text: &str, module: u32, inverted: bool) -> image::GrayImage {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let n = code.width() as u32;
        let colors = code.to_colors();
        let side = (n + 8) * module;
        image::GrayImage::from_fn(side, side, |x, y| {
            let (mx, my) = (x / module, y / module);
            let dark = (4..n + 4).contains(&mx)
                && (4..n + 4).contains(&my)
                && colors[((my - 4) * n + mx - 4) as usize] == qrcode::Color::Dark;
            image::Luma([if dark != inverted { 20 } else { 235 }])
        })
    }

    fn encode(picture: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn reads_the_code_from_a_png_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.png");
        let png = encode(
            &qr_picture(&code_text(), 6, false).into(),
            image::ImageFormat::Png,
        );
        std::fs::write(&path, png).unwrap();
        assert_eq!(decode_file(&path).unwrap(), code_text());
    }

    #[test]
    fn reads_a_jpeg_photo_like_picture_inside_a_larger_frame() {
        // The code off-centre on a grey "desk", lossy-compressed like a phone photo.
        let qr = qr_picture(&code_text(), 5, false);
        let mut frame = image::GrayImage::from_pixel(900, 700, image::Luma([128]));
        image::imageops::overlay(&mut frame, &qr, 250, 120);
        let jpeg = encode(
            &image::DynamicImage::ImageLuma8(frame).to_rgb8().into(),
            image::ImageFormat::Jpeg,
        );
        assert_eq!(decode_bytes(&jpeg).unwrap(), code_text());
    }

    #[test]
    fn reads_a_screenshot_of_the_light_on_dark_terminal_code() {
        let png = encode(
            &qr_picture(&code_text(), 4, true).into(),
            image::ImageFormat::Png,
        );
        assert_eq!(decode_bytes(&png).unwrap(), code_text());
    }

    #[test]
    fn reads_the_code_from_base64_bytes_as_the_window_sends_them() {
        use base64::Engine;
        let png = encode(
            &qr_picture(&code_text(), 6, false).into(),
            image::ImageFormat::Png,
        );
        let request = DecodePictureRequest {
            data_base64: base64::engine::general_purpose::STANDARD.encode(png),
        };
        assert_eq!(decode_provisioning_picture(request).unwrap(), code_text());
        let garbled = DecodePictureRequest {
            data_base64: "not base64!".into(),
        };
        let err = decode_provisioning_picture(garbled).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_barcode_question_reads_any_qr_code_as_written() {
        use base64::Engine;
        let request = |picture: &image::GrayImage| DecodePictureRequest {
            data_base64: base64::engine::general_purpose::STANDARD
                .encode(encode(&picture.clone().into(), image::ImageFormat::Png)),
        };
        let meter = "METER-0042 \u{0645}\u{0627}\u{0621}";
        assert_eq!(
            read_barcode_picture(request(&qr_picture(meter, 6, false))).unwrap(),
            meter
        );
        // A provisioning code is just text to a barcode question.
        assert_eq!(
            read_barcode_picture(request(&qr_picture(&code_text(), 6, false))).unwrap(),
            code_text()
        );
        let blank = image::GrayImage::from_pixel(300, 300, image::Luma([255]));
        let err = read_barcode_picture(request(&blank)).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::NoCodeFound);
        assert!(
            err.to_string().contains("no QR code could be read"),
            "{err}"
        );
    }

    #[test]
    fn a_picture_without_a_code_says_so() {
        let blank = image::GrayImage::from_pixel(300, 300, image::Luma([255]));
        let err = decode_bytes(&encode(&blank.into(), image::ImageFormat::Png)).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::NoCodeFound);
    }

    #[test]
    fn a_qr_code_that_is_not_a_provisioning_code_is_named_as_such() {
        let png = encode(
            &qr_picture("https://example.org/", 6, false).into(),
            image::ImageFormat::Png,
        );
        let err = decode_bytes(&png).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::NoCodeFound);
        assert!(
            err.to_string().contains("not a Voices provisioning code"),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_picture_is_invalid_input_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.png");
        std::fs::write(&path, "voices1:abc").unwrap();
        let err = decode_file(&path).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("notes.png"), "{err}");
        let missing = decode_file(&dir.path().join("gone.png")).unwrap_err();
        assert_eq!(missing.kind(), crate::error::ErrorKind::File);
    }
}
