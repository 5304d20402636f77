// The console's words about what a response records of enumerator–respondent matching and
// of a referral step, on a response's page, in its four languages; merged into the tables
// of `i18n/*.ts`, whose test holds every language to every key.

export const matchingEn = {
  matching: 'Enumerator matching',
  matchingMatched: '{section}: asked by this enumerator (the rule was met)',
  matchingHandedOver: '{section}: handed over to {by} ({sex})',
  matchingSkipped: '{section}: skipped, no suitable enumerator',
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
  matchingAt: 'registrado {at}',
  referralAccepted: 'Derivación aceptada: {services}',
  referralDeclined: 'Derivación ofrecida y rechazada',
  referralNoService: 'Ningún servicio del directorio coincidía: no se pudo ofrecer nada',
};
