// The console's words about what a response records of enumerator–respondent matching and
// of a referral step, on a response's page, in its four languages; merged into the tables
// of `i18n/*.ts`, whose test holds every language to every key.

export const matchingEn = {
  matching: 'Enumerator matching',
  matchingMatched: '{section}: asked by this enumerator (the rule was met)',
  matchingHandedOver: '{section}: handed over to {by} ({sex})',
  matchingSkipped: '{section}: skipped, no suitable enumerator',
  matchingRefusedPending: '{section}: a hand-over was refused (the colleague did not meet the rule either); not settled',
  matchingRefusedBy: 'hand-overs refused: {who}',
  previewAs: 'Preview as',
  previewAsHelp: 'The enumerator the preview interviews as: the sections whose rule this profile does not meet are blocked, as on a device with this profile.',
  previewDirectory: 'Referral directory: version {version}, {count} services (the project\'s published directory; referral steps list its matching services)',
  previewNoDirectory: 'This project has published no referral directory: referral steps say that no service can be listed.',
  matchingAt: 'recorded {at}',
  referralAccepted: 'Referral accepted: {services}',
  referralDeclined: 'Referral offered and declined',
  referralNoService: 'No service of the directory matched: nothing could be offered',
};

export const matchingAr: typeof matchingEn = {
  matching: 'مطابقة الباحث',
  matchingMatched: '{section}: طرحها هذا الباحث (استُوفيت القاعدة)',
  matchingHandedOver: '{section}: سُلّمت إلى {by} ({sex})',
  matchingSkipped: '{section}: تُخطّيت، لا يوجد باحث مناسب',
  matchingRefusedPending: '{section}: رُفض تسليم (الزميل لا يستوفي القاعدة أيضًا)؛ لم يُحسم',
  matchingRefusedBy: 'تسليمات مرفوضة: {who}',
  previewAs: 'المعاينة بصفة',
  previewAsHelp: 'الباحث الذي تُجرى المعاينة بصفته: تُحجب الأقسام التي لا يستوفي هذا الملف قاعدتها، كما على جهاز بهذا الملف.',
  previewDirectory: 'دليل الإحالة: الإصدار {version}، {count} خدمة (الدليل المنشور للمشروع؛ تعرض خطوات الإحالة خدماته المطابقة)',
  previewNoDirectory: 'لم ينشر هذا المشروع دليل إحالة: تقول خطوات الإحالة إنه لا توجد خدمة لعرضها.',
  matchingAt: 'سُجّلت {at}',
  referralAccepted: 'قُبلت الإحالة: {services}',
  referralDeclined: 'عُرضت الإحالة ورُفضت',
  referralNoService: 'لم تطابق أي خدمة في الدليل: لم يُعرض شيء',
};

export const matchingUk: typeof matchingEn = {
  matching: 'Відповідність інтерв’юера',
  matchingMatched: '{section}: ставив цей інтерв’юер (правило виконано)',
  matchingHandedOver: '{section}: передано {by} ({sex})',
  matchingSkipped: '{section}: пропущено, немає відповідного інтерв’юера',
  matchingRefusedPending: '{section}: передачу відхилено (колега теж не відповідає правилу); не вирішено',
  matchingRefusedBy: 'відхилені передачі: {who}',
  previewAs: 'Перегляд як',
  previewAsHelp: 'Інтерв’юер, від імені якого ведеться перегляд: розділи, правилу яких цей профіль не відповідає, заблоковано, як на пристрої з таким профілем.',
  previewDirectory: 'Довідник направлень: версія {version}, служб: {count} (опублікований довідник проєкту; кроки направлення показують відповідні служби)',
  previewNoDirectory: 'Цей проєкт не опублікував довідника направлень: кроки направлення повідомляють, що жодної служби показати не можна.',
  matchingAt: 'записано {at}',
  referralAccepted: 'Направлення прийнято: {services}',
  referralDeclined: 'Направлення запропоновано й відхилено',
  referralNoService: 'Жодна служба з довідника не підійшла: нічого не запропоновано',
};

export const matchingEs: typeof matchingEn = {
  matching: 'Asignación del encuestador',
  matchingMatched: '{section}: la hizo este encuestador (se cumplió la regla)',
  matchingHandedOver: '{section}: la tomó {by} ({sex})',
  matchingSkipped: '{section}: omitida, ningún encuestador adecuado',
  matchingRefusedPending: '{section}: se rechazó un traspaso (la persona tampoco cumplía la regla); sin resolver',
  matchingRefusedBy: 'traspasos rechazados: {who}',
  previewAs: 'Vista previa como',
  previewAsHelp: 'El encuestador con el que se hace la vista previa: las secciones cuya regla este perfil no cumple quedan bloqueadas, como en un dispositivo con este perfil.',
  previewDirectory: 'Directorio de derivación: versión {version}, {count} servicios (el directorio publicado del proyecto; los pasos de derivación listan los servicios que coinciden)',
  previewNoDirectory: 'Este proyecto no ha publicado un directorio de derivación: los pasos de derivación indican que no se puede listar ningún servicio.',
  matchingAt: 'registrado {at}',
  referralAccepted: 'Derivación aceptada: {services}',
  referralDeclined: 'Derivación ofrecida y rechazada',
  referralNoService: 'Ningún servicio del directorio coincidía: no se pudo ofrecer nada',
};
