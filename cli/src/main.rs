//! `voices`: the form designer's command-line tool.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("voices: the form commands land with the form engine")
}
