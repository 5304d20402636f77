//! `voices-server device …`: an admin's commands for enumerator devices (register one
//! and print its provisioning code as text, QR code and PNG; its profile; revoke). The
//! binary's module (not the library's).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;
use voices_core::sync::protocol::ProvisioningCode;
use voices_server::serve;

use crate::{open_store, profile_cli, say, Cli};

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Register a device and print its one-time provisioning code (text and QR code).
    Add {
        #[arg(long)]
        project: String,
        #[arg(long)]
        enumerator: String,
        /// Device id (default: a random one).
        #[arg(long)]
        id: Option<String>,
        /// A name people recognise the device by ("Tablet 4"), listed in the console.
        #[arg(long)]
        label: Option<String>,
        /// The server address as the device will reach it. The app accepts `http://` only
        /// for this machine (loopback); elsewhere use `https://`.
        #[arg(long, default_value = "http://127.0.0.1:8470")]
        server: String,
        /// The certificate the server serves (`serve --tls-cert`): when it is self-signed,
        /// the code carries its SHA-256 fingerprint and the device trusts exactly it.
        #[arg(long, value_name = "FILE", env = "VOICES_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// Pin --tls-cert even if it is not self-signed (a private certificate authority
        /// the devices do not know).
        #[arg(long, requires = "tls_cert")]
        pin_certificate: bool,
        /// Days the code stays valid.
        #[arg(long, default_value_t = 7)]
        valid_days: i64,
        /// Also write the QR code as a PNG picture to FILE (to print, or to send to the
        /// device, whose app reads the code from a photo or screenshot).
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// The enumerator's profile, which sections' matching rules read on the device.
        #[command(flatten)]
        profile: profile_cli::ProfileOptions,
    },
    /// Show or change the enumerator profile of a device (sex, languages, home area),
    /// which sections' matching rules read; the device takes it at its next sync.
    Profile {
        id: String,
        #[command(flatten)]
        profile: profile_cli::ProfileOptions,
    },
    /// Revoke a device and all its tokens.
    Revoke {
        id: String,
        /// Also have the app erase everything on the device at its next contact: forms,
        /// interviews and responses not yet sent are lost.
        #[arg(long)]
        wipe: bool,
    },
}

pub fn run(cli: &Cli, command: &DeviceCommand, now: &str) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Add {
            project,
            enumerator,
            id,
            label,
            server,
            valid_days,
            qr_png: png_path,
            tls_cert,
            pin_certificate,
            profile,
        } => {
            // Checked before the device is made, so a wrong profile leaves nothing behind.
            let profile = profile.apply(&Default::default())?;
            let pin = match tls_cert {
                Some(path) => {
                    let certificate = serve::tls::certificate_info(path)?;
                    (certificate.self_signed || *pin_certificate).then_some(certificate.sha256)
                }
                None => None,
            };
            let store = open_store(cli)?;
            let registered = voices_server::accounts::register_labelled_device(
                store.as_ref(),
                project,
                enumerator,
                id.as_deref(),
                label.as_deref(),
                *valid_days,
            )?;
            let (id, expires) = (&registered.device.id, &registered.code_expires_at);
            if !profile.is_empty() {
                store.set_device_profile(Some(project.as_str()), id, &profile)?;
                say(&format!(
                    "enumerator profile: {}",
                    profile_cli::describe(&profile)
                ))?;
            }
            let text = ProvisioningCode {
                server: server.clone(),
                project: project.clone(),
                code: registered.code,
                certificate_sha256: pin,
            }
            .to_text();
            say(&format!(
                "device `{id}` for {enumerator} in project `{project}`"
            ))?;
            say(&format!(
                "one-time provisioning code (valid until {expires}):\n{text}\n"
            ))?;
            print_qr(&text)?;
            if let Some(path) = png_path {
                std::fs::write(path, qr_png(&text)?).with_context(|| {
                    format!("cannot write the QR code picture {}", path.display())
                })?;
                say(&format!("QR code picture: {}", path.display()))?;
            }
            Ok(())
        }
        DeviceCommand::Profile { id, profile } => {
            let store = open_store(cli)?;
            profile_cli::device_profile(store.as_ref(), id, profile, say)
        }
        DeviceCommand::Revoke { id, wipe } => {
            let store = open_store(cli)?;
            let revoked = if *wipe {
                store.revoke_device_with_wipe(id, now)?
            } else {
                store.revoke_device(id, now)?
            };
            if !revoked {
                bail!("there is no device `{id}`");
            }
            if *wipe {
                println!(
                    "revoked device `{id}` and its tokens; it erases its data at its next contact (responses it has not sent are lost)"
                );
            } else {
                println!("revoked device `{id}` and its tokens");
            }
            Ok(())
        }
    }
}

fn print_qr(text: &str) -> anyhow::Result<()> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).context("cannot make a QR code")?;
    let image = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    say(&image)
}

/// Pixels per QR module in `--qr-png` pictures: big enough to survive printing and a
/// phone photo of the print.
const QR_PNG_MODULE_PIXELS: u32 = 8;

/// The QR code of `text` as a black-on-white PNG with the standard 4-module quiet zone.
fn qr_png(text: &str) -> anyhow::Result<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).context("cannot make a QR code")?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * QR_PNG_MODULE_PIXELS;
    let picture = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / QR_PNG_MODULE_PIXELS, y / QR_PNG_MODULE_PIXELS);
        let inside =
            (quiet..quiet + modules).contains(&mx) && (quiet..quiet + modules).contains(&my);
        let dark = inside
            && colors[((my - quiet) * modules + (mx - quiet)) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut png, image::ImageFormat::Png)
        .context("cannot encode the QR code as PNG")?;
    Ok(png.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_png_draws_every_module_black_on_white_with_a_quiet_zone() {
        let text = "voices1:eyJzZXJ2ZXIiOiJodHRwOi8vMTI3LjAuMC4xOjg0NzAifQ";
        let png = qr_png(text).unwrap();
        let picture = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .unwrap()
            .to_luma8();
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width() as u32;
        let side = (modules + 8) * QR_PNG_MODULE_PIXELS;
        assert_eq!(picture.dimensions(), (side, side));
        // The quiet zone is white; each module's centre pixel has the module's colour.
        assert_eq!(picture.get_pixel(1, 1).0, [255]);
        let colors = code.to_colors();
        for my in 0..modules {
            for mx in 0..modules {
                let centre = |m: u32| (m + 4) * QR_PNG_MODULE_PIXELS + QR_PNG_MODULE_PIXELS / 2;
                let dark = colors[(my * modules + mx) as usize] == qrcode::Color::Dark;
                let pixel = picture.get_pixel(centre(mx), centre(my)).0[0];
                assert_eq!(pixel == 0, dark, "module ({mx}, {my})");
            }
        }
    }
}
