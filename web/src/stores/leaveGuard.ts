// A page with unsaved work sets a question here; in-app navigation asks it before leaving.
// (Kept apart from the editor store so the navigation does not load the editor's code.)
let question: string | null = null;

export function setLeaveQuestion(q: string | null): void {
  question = q;
}

/** True when leaving is fine: nothing unsaved, or the user said so. */
export function mayLeave(confirmFn: (q: string) => boolean = (q) => window.confirm(q)): boolean {
  return question === null || confirmFn(question);
}
