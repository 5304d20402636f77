//! Safe exit: the neutral decoy screen shown when the enumerator has to hide the interview
//! (the screen itself is `crate::decoy`, shared with the console's preview).

use super::Voices;
use crate::decoy::{decoy, DecoyView};
use crate::error::Result;

impl Voices {
    /// Enter a safe exit (with a response: recorded) or prepare its screen (form only),
    /// in `language` when the form has it (else the form's default language).
    pub fn safe_exit(
        &self,
        id: Option<&str>,
        form_id: Option<&str>,
        language: Option<&str>,
    ) -> Result<DecoyView> {
        let form = match (id, form_id) {
            (Some(id), _) => {
                self.paradata(id, "safe_exit", None)?;
                let row = self.store.lock().response(id)?;
                Some(self.forms.compiled(&row.form_id, &row.form_version)?)
            }
            (None, Some(form_id)) => match self.forms.newest_version(form_id)? {
                Some(v) => Some(self.forms.compiled(form_id, &v)?),
                None => None,
            },
            (None, None) => None,
        };
        Ok(decoy(
            form.as_ref(),
            language,
            chrono::Local::now().fixed_offset(),
        ))
    }
}
