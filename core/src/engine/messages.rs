//! The engine's own messages (when a form gives none), in English, Arabic,
//! Ukrainian and Spanish; other languages fall back to English.

/// A message the engine writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    Required,
    Constraint,
    ConstraintError,
    Integer,
    Decimal,
    Range,
    NotAChoice,
    FilteredOut,
    ChoiceTwice,
    /// The value-free forms of the four messages above that quote an answer.
    AnswerNotAChoice,
    AnswerFilteredOut,
    AnswerChoiceTwice,
    ConstraintUnchecked,
    Date,
    Time,
    DateTime,
    Geopoint,
    Geotrace,
    Geoshape,
    Acknowledge,
    Referral,
    UnknownField,
    NotAValue,
    NotARepeat,
    TooFewInstances,
    TooManyInstances,
    ConsentMissing,
    ConsentRecordMissing,
    ConsentVersion,
    AssentMissing,
    AssentRecordMissing,
    AssentVersion,
    DeclinedWithAnswers,
    PrivacyMissing,
    MatchingMissing,
    PrivacyInterrupted,
    SelectionUnrecorded,
    SelectionGone,
}

/// `(en, ar, uk, es)`; `{name}` placeholders are filled by [`text`].
fn table(msg: Msg) -> [&'static str; 4] {
    match msg {
        Msg::Required => [
            "This question is required.",
            "هذا السؤال مطلوب.",
            "Це питання обов'язкове.",
            "Esta pregunta es obligatoria.",
        ],
        Msg::Constraint => [
            "This answer is not accepted.",
            "هذه الإجابة غير مقبولة.",
            "Ця відповідь неприйнятна.",
            "Esta respuesta no es válida.",
        ],
        Msg::ConstraintError => [
            "This answer could not be checked: {error}",
            "تعذّر التحقق من هذه الإجابة: {error}",
            "Не вдалося перевірити цю відповідь: {error}",
            "No se pudo comprobar esta respuesta: {error}",
        ],
        Msg::Integer => [
            "Enter a whole number.",
            "أدخل عددًا صحيحًا.",
            "Введіть ціле число.",
            "Introduzca un número entero.",
        ],
        Msg::Decimal => [
            "Enter a number.",
            "أدخل رقمًا.",
            "Введіть число.",
            "Introduzca un número.",
        ],
        Msg::Range => [
            "Choose a value from {start} to {end} in steps of {step}.",
            "اختر قيمة من {start} إلى {end} بخطوات مقدارها {step}.",
            "Виберіть значення від {start} до {end} з кроком {step}.",
            "Elija un valor de {start} a {end} en pasos de {step}.",
        ],
        Msg::NotAChoice => [
            "“{value}” is not one of the choices.",
            "«{value}» ليس من الخيارات المتاحة.",
            "«{value}» немає серед варіантів.",
            "«{value}» no es una de las opciones.",
        ],
        Msg::FilteredOut => [
            "“{value}” is no longer among the choices offered here; choose again.",
            "«{value}» لم يعد من الخيارات المعروضة هنا؛ اختر مرة أخرى.",
            "«{value}» більше немає серед запропонованих тут варіантів; виберіть ще раз.",
            "«{value}» ya no está entre las opciones ofrecidas aquí; elija de nuevo.",
        ],
        Msg::ChoiceTwice => [
            "“{value}” is chosen more than once.",
            "«{value}» مختار أكثر من مرة.",
            "«{value}» вибрано більше одного разу.",
            "«{value}» está elegido más de una vez.",
        ],
        Msg::AnswerNotAChoice => [
            "The answer is not one of the choices.",
            "الإجابة ليست من الخيارات المتاحة.",
            "Відповіді немає серед варіантів.",
            "La respuesta no es una de las opciones.",
        ],
        Msg::AnswerFilteredOut => [
            "The answer is no longer among the choices offered here; choose again.",
            "الإجابة لم تعد من الخيارات المعروضة هنا؛ اختر مرة أخرى.",
            "Відповіді більше немає серед запропонованих тут варіантів; виберіть ще раз.",
            "La respuesta ya no está entre las opciones ofrecidas aquí; elija de nuevo.",
        ],
        Msg::AnswerChoiceTwice => [
            "A choice is chosen more than once.",
            "أحد الخيارات مختار أكثر من مرة.",
            "Один із варіантів вибрано більше одного разу.",
            "Una opción está elegida más de una vez.",
        ],
        Msg::ConstraintUnchecked => [
            "This answer could not be checked.",
            "تعذّر التحقق من هذه الإجابة.",
            "Не вдалося перевірити цю відповідь.",
            "No se pudo comprobar esta respuesta.",
        ],
        Msg::Date => [
            "Enter a date as YYYY-MM-DD.",
            "أدخل تاريخًا بالشكل YYYY-MM-DD.",
            "Введіть дату у форматі YYYY-MM-DD.",
            "Introduzca una fecha con el formato YYYY-MM-DD.",
        ],
        Msg::Time => [
            "Enter a time as HH:MM.",
            "أدخل وقتًا بالشكل HH:MM.",
            "Введіть час у форматі HH:MM.",
            "Introduzca una hora con el formato HH:MM.",
        ],
        Msg::DateTime => [
            "Enter a date and time as YYYY-MM-DDTHH:MM.",
            "أدخل تاريخًا ووقتًا بالشكل YYYY-MM-DDTHH:MM.",
            "Введіть дату й час у форматі YYYY-MM-DDTHH:MM.",
            "Introduzca fecha y hora con el formato YYYY-MM-DDTHH:MM.",
        ],
        Msg::Geopoint => [
            "Enter a location as “latitude longitude [altitude accuracy]”.",
            "أدخل موقعًا بالشكل «خط العرض خط الطول [الارتفاع الدقة]».",
            "Введіть місце як «широта довгота [висота точність]».",
            "Introduzca una ubicación como «latitud longitud [altitud precisión]».",
        ],
        Msg::Geotrace => [
            "Enter a line of at least 2 locations separated by “;”.",
            "أدخل خطًا من موقعين على الأقل تفصل بينهما «;».",
            "Введіть лінію щонайменше з 2 місць, розділених «;».",
            "Introduzca una línea de al menos 2 ubicaciones separadas por «;».",
        ],
        Msg::Geoshape => [
            "Enter a shape of at least 3 locations separated by “;”.",
            "أدخل شكلًا من ثلاثة مواقع على الأقل تفصل بينها «;».",
            "Введіть фігуру щонайменше з 3 місць, розділених «;».",
            "Introduzca una forma de al menos 3 ubicaciones separadas por «;».",
        ],
        Msg::Acknowledge => [
            "Acknowledge with “OK”.",
            "أكّد بـ «OK».",
            "Підтвердьте «OK».",
            "Confirme con «OK».",
        ],
        Msg::Referral => [
            "Record whether the services were accepted or declined.",
            "سجّل ما إذا قُبلت الخدمات أو رُفضت.",
            "Зазначте, чи послуги прийнято, чи відхилено.",
            "Indique si se aceptaron o rechazaron los servicios.",
        ],
        Msg::UnknownField => [
            "“{name}” is not a question of this form.",
            "«{name}» ليس سؤالًا في هذه الاستمارة.",
            "«{name}» не є питанням цієї форми.",
            "«{name}» no es una pregunta de este formulario.",
        ],
        Msg::NotAValue => [
            "“{name}” takes a single answer, not a list of instances.",
            "«{name}» يقبل إجابة واحدة، لا قائمة من التكرارات.",
            "«{name}» має одну відповідь, а не список повторень.",
            "«{name}» admite una sola respuesta, no una lista de repeticiones.",
        ],
        Msg::NotARepeat => [
            "“{name}” is a repeat: give a list of instances.",
            "«{name}» مجموعة متكررة: أعطِ قائمة من التكرارات.",
            "«{name}» — це повторювана група: дайте список повторень.",
            "«{name}» es una repetición: indique una lista de repeticiones.",
        ],
        Msg::TooFewInstances => [
            "Add at least {min} (there are {count}).",
            "أضف {min} على الأقل (يوجد {count}).",
            "Додайте щонайменше {min} (зараз {count}).",
            "Añada al menos {min} (hay {count}).",
        ],
        Msg::TooManyInstances => [
            "Keep at most {max} (there are {count}).",
            "أبقِ {max} على الأكثر (يوجد {count}).",
            "Залиште щонайбільше {max} (зараз {count}).",
            "Mantenga como máximo {max} (hay {count}).",
        ],
        Msg::ConsentMissing => [
            "Record whether the respondent consents.",
            "سجّل ما إذا كان المستجيب موافقًا.",
            "Зазначте, чи дає респондент згоду.",
            "Registre si la persona encuestada da su consentimiento.",
        ],
        Msg::ConsentRecordMissing => [
            "The consent record (time and text version) is missing.",
            "سجل الموافقة (الوقت ونسخة النص) مفقود.",
            "Бракує запису про згоду (час і версія тексту).",
            "Falta el registro del consentimiento (hora y versión del texto).",
        ],
        Msg::ConsentVersion => [
            "Consent was recorded for text version {recorded}, but the form's consent text is version {current}.",
            "سُجّلت الموافقة على نسخة النص {recorded}، لكن نص الموافقة في الاستمارة هو النسخة {current}.",
            "Згоду записано для версії тексту {recorded}, а у формі версія {current}.",
            "El consentimiento se registró para la versión {recorded} del texto, pero la del formulario es {current}.",
        ],
        Msg::AssentMissing => [
            "Record whether the young respondent agrees (assent).",
            "سجّل ما إذا كان المستجيب القاصر موافقًا بنفسه (القبول).",
            "Зазначте, чи погоджується неповнолітній респондент сам (згода дитини).",
            "Registre si la persona menor de edad acepta participar (asentimiento).",
        ],
        Msg::AssentRecordMissing => [
            "The assent record (time and text version) is missing.",
            "سجل القبول (الوقت ونسخة النص) مفقود.",
            "Бракує запису про згоду дитини (час і версія тексту).",
            "Falta el registro del asentimiento (hora y versión del texto).",
        ],
        Msg::AssentVersion => [
            "Assent was recorded for text version {recorded}, but the form's assent text is version {current}.",
            "سُجّل القبول على نسخة النص {recorded}، لكن نص القبول في الاستمارة هو النسخة {current}.",
            "Згоду дитини записано для версії тексту {recorded}, а у формі версія {current}.",
            "El asentimiento se registró para la versión {recorded} del texto, pero la del formulario es {current}.",
        ],
        Msg::DeclinedWithAnswers => [
            "The respondent declined to take part; no other answers may be kept.",
            "رفض المستجيب المشاركة؛ لا يجوز الاحتفاظ بأي إجابات أخرى.",
            "Респондент відмовився від участі; інші відповіді не можна зберігати.",
            "La persona encuestada no aceptó participar; no se puede conservar ninguna otra respuesta.",
        ],
        Msg::PrivacyMissing => [
            "Confirm whether the respondent can answer in private before this section.",
            "تأكّد مما إذا كان المستجيب يستطيع الإجابة على انفراد قبل هذا القسم.",
            "Перед цим розділом підтвердьте, чи може респондент відповідати наодинці.",
            "Antes de esta sección, confirme si la persona puede responder en privado.",
        ],
        Msg::MatchingMissing => [
            "This section needs a matching enumerator: record a hand-over to one, or skip it.",
            "يتطلب هذا القسم باحثًا مطابقًا: سجّل تسليمه إلى باحث مناسب أو تخطَّه.",
            "Цей розділ потребує відповідного інтерв'юера: запишіть передачу такому або пропустіть розділ.",
            "Esta sección requiere una persona encuestadora adecuada: registre el traspaso a una o sáltela.",
        ],
        Msg::PrivacyInterrupted => [
            "This section was interrupted; resume it in private or record that it is not private.",
            "قوطع هذا القسم؛ استأنفه على انفراد أو سجّل أنه ليس خاصًا.",
            "Цей розділ перервано; продовжте його наодинці або зазначте, що приватності немає.",
            "Esta sección se interrumpió; reanúdela en privado o registre que no hay privacidad.",
        ],
        Msg::SelectionUnrecorded => [
            "This person was not drawn here: the record of the draw is missing or gives another person.",
            "لم يُسحب هذا الشخص هنا: سجل السحب مفقود أو يشير إلى شخص آخر.",
            "Цю людину обрано не жеребкуванням: запису про жеребкування немає або він вказує на іншу людину.",
            "Esta persona no salió del sorteo: falta el registro del sorteo o indica a otra persona.",
        ],
        Msg::SelectionGone => [
            "Person {number} was drawn but is no longer on the list; restore the list as it was at the draw.",
            "سُحب الشخص رقم {number} لكنه لم يعد في القائمة؛ أعد القائمة كما كانت وقت السحب.",
            "Жеребкування обрало людину № {number}, але її вже немає в списку; відновіть список, яким він був під час жеребкування.",
            "Salió la persona n.º {number}, pero ya no está en la lista; deje la lista como estaba en el sorteo.",
        ],
    }
}

/// The form of `msg` that quotes no answer, for a message that quotes one.
pub(crate) fn without_answer(msg: Msg) -> Option<Msg> {
    match msg {
        Msg::NotAChoice => Some(Msg::AnswerNotAChoice),
        Msg::FilteredOut => Some(Msg::AnswerFilteredOut),
        Msg::ChoiceTwice => Some(Msg::AnswerChoiceTwice),
        Msg::ConstraintError => Some(Msg::ConstraintUnchecked),
        _ => None,
    }
}

/// The message in `lang` (by primary subtag), placeholders filled from `args`.
pub(crate) fn text(msg: Msg, lang: &str, args: &[(&str, &str)]) -> String {
    let primary = lang
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let column = match primary.as_str() {
        "ar" => 1,
        "uk" => 2,
        "es" => 3,
        _ => 0,
    };
    let mut out = table(msg)[column].to_owned();
    for (key, value) in args {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_every_language_with_the_same_placeholders() {
        let all = [
            Msg::Required,
            Msg::Constraint,
            Msg::ConstraintError,
            Msg::Integer,
            Msg::Decimal,
            Msg::Range,
            Msg::NotAChoice,
            Msg::FilteredOut,
            Msg::ChoiceTwice,
            Msg::AnswerNotAChoice,
            Msg::AnswerFilteredOut,
            Msg::AnswerChoiceTwice,
            Msg::ConstraintUnchecked,
            Msg::Date,
            Msg::Time,
            Msg::DateTime,
            Msg::Geopoint,
            Msg::Geotrace,
            Msg::Geoshape,
            Msg::Acknowledge,
            Msg::Referral,
            Msg::UnknownField,
            Msg::NotAValue,
            Msg::NotARepeat,
            Msg::TooFewInstances,
            Msg::TooManyInstances,
            Msg::ConsentMissing,
            Msg::ConsentRecordMissing,
            Msg::ConsentVersion,
            Msg::AssentMissing,
            Msg::AssentRecordMissing,
            Msg::AssentVersion,
            Msg::DeclinedWithAnswers,
            Msg::PrivacyMissing,
            Msg::MatchingMissing,
            Msg::PrivacyInterrupted,
            Msg::SelectionUnrecorded,
            Msg::SelectionGone,
        ];
        let placeholders = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(k, _)| k.to_owned()))
                .collect();
            v.sort();
            v
        };
        for msg in all {
            let row = table(msg);
            for t in row {
                assert!(!t.is_empty(), "{msg:?}");
                assert_eq!(placeholders(t), placeholders(row[0]), "{msg:?}: {t}");
            }
        }
        assert_eq!(text(Msg::Required, "ar-EG", &[]), "هذا السؤال مطلوب.");
        assert_eq!(text(Msg::Required, "fr", &[]), "This question is required.");
        assert_eq!(
            text(Msg::TooFewInstances, "es", &[("min", "2"), ("count", "1")]),
            "Añada al menos 2 (hay 1)."
        );
    }
}
