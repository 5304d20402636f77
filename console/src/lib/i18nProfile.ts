// The console's words about enumerator profiles (enumerator–respondent matching) and a
// project's neutral presentation, on the Devices page, in its four languages; merged
// into the tables of `i18n.ts`, whose test holds every language to every key.

export const profileEn = {
  profile: 'Matching profile',
  profileHelp:
    "What sections with a matching rule read on the device (for example a female enumerator for the violence module). The device takes it at its next sync; without a profile no rule that names a value is met.",
  profileSex: 'Sex',
  profileLanguages: 'Languages (codes, comma-separated)',
  profileArea: 'Home area',
  sexUnknown: 'unknown',
  sexFemale: 'female',
  sexMale: 'male',
  sexOther: 'other',
  noProfile: 'no profile',
  editProfile: 'Edit profile',
  editProfileOf: 'Edit profile of {name}',
  saveProfile: 'Save profile',
  profileSaved: 'Profile of {name} saved; the device takes it at its next sync.',
  presentation: 'Neutral name',
  presentationHelp:
    'A name the app shows instead of its own (window title, the name on screen, reminders), so that a bystander learns nothing about the survey. Empty: the app shows its own name.',
  savePresentation: 'Save name',
  presentationSaved: 'Saved; devices show it from their next sync.',
};

export type ProfileStrings = typeof profileEn;

export const profileAr: ProfileStrings = {
  profile: 'ملف الباحث',
  profileHelp:
    'ما تقرؤه الأقسام ذات قاعدة المطابقة على الجهاز (مثل باحثة لوحدة العنف). يتسلّمه الجهاز في المزامنة التالية؛ ومن دون ملف لا تتحقق أي قاعدة تشترط قيمة.',
  profileSex: 'الجنس',
  profileLanguages: 'اللغات (رموز مفصولة بفواصل)',
  profileArea: 'المنطقة الأصلية',
  sexUnknown: 'غير معروف',
  sexFemale: 'أنثى',
  sexMale: 'ذكر',
  sexOther: 'آخر',
  noProfile: 'لا يوجد ملف',
  editProfile: 'تعديل الملف',
  editProfileOf: 'تعديل الملف: {name}',
  saveProfile: 'حفظ الملف',
  profileSaved: 'حُفظ ملف {name}؛ يتسلّمه الجهاز في المزامنة التالية.',
  presentation: 'الاسم المحايد',
  presentationHelp:
    'اسم يعرضه التطبيق بدل اسمه (عنوان النافذة، الاسم على الشاشة، التذكيرات)، كي لا يعرف أحد من المحيطين شيئًا عن المسح. فارغ: يعرض التطبيق اسمه.',
  savePresentation: 'حفظ الاسم',
  presentationSaved: 'حُفظ؛ تعرضه الأجهزة من مزامنتها التالية.',
};

export const profileUk: ProfileStrings = {
  profile: "Профіль інтерв'юера",
  profileHelp:
    "Те, що розділи з правилом відповідності читають на пристрої (наприклад, інтерв'юерка для модуля про насильство). Пристрій отримає його під час наступної синхронізації; без профілю жодне правило, що вимагає значення, не виконується.",
  profileSex: 'Стать',
  profileLanguages: 'Мови (коди через кому)',
  profileArea: 'Рідна місцевість',
  sexUnknown: 'невідомо',
  sexFemale: 'жіноча',
  sexMale: 'чоловіча',
  sexOther: 'інша',
  noProfile: 'немає профілю',
  editProfile: 'Змінити профіль',
  editProfileOf: 'Змінити профіль {name}',
  saveProfile: 'Зберегти профіль',
  profileSaved: 'Профіль {name} збережено; пристрій отримає його під час наступної синхронізації.',
  presentation: 'Нейтральна назва',
  presentationHelp:
    'Назва, яку застосунок показує замість своєї (заголовок вікна, назва на екрані, нагадування), щоб сторонні нічого не дізналися про опитування. Порожньо: застосунок показує свою назву.',
  savePresentation: 'Зберегти назву',
  presentationSaved: 'Збережено; пристрої показуватимуть її після наступної синхронізації.',
};

export const profileEs: ProfileStrings = {
  profile: 'Perfil de encuestador/a',
  profileHelp:
    'Lo que leen en el dispositivo las secciones con regla de correspondencia (por ejemplo, una encuestadora para el módulo de violencia). El dispositivo lo recibe en la próxima sincronización; sin perfil no se cumple ninguna regla que pida un valor.',
  profileSex: 'Sexo',
  profileLanguages: 'Idiomas (códigos separados por comas)',
  profileArea: 'Zona de origen',
  sexUnknown: 'desconocido',
  sexFemale: 'femenino',
  sexMale: 'masculino',
  sexOther: 'otro',
  noProfile: 'sin perfil',
  editProfile: 'Editar perfil',
  editProfileOf: 'Editar perfil: {name}',
  saveProfile: 'Guardar perfil',
  profileSaved: 'Perfil de {name} guardado; el dispositivo lo recibe en la próxima sincronización.',
  presentation: 'Nombre neutral',
  presentationHelp:
    'Un nombre que la aplicación muestra en lugar del suyo (título de la ventana, nombre en pantalla, recordatorios), para que nadie alrededor sepa nada de la encuesta. Vacío: la aplicación muestra su propio nombre.',
  savePresentation: 'Guardar nombre',
  presentationSaved: 'Guardado; los dispositivos lo muestran desde su próxima sincronización.',
};
