// Short messages after an action ("Saved as version 3").
import { create } from 'zustand';

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}
interface ToastState {
  toasts: Toast[];
  push: (text: string, kind?: Toast['kind']) => void;
  drop: (id: number) => void;
}
let n = 0;
export const useToasts = create<ToastState>((set, get) => ({
  toasts: [],
  push: (text, kind = 'info') => {
    const id = ++n;
    set({ toasts: [...get().toasts, { id, text, kind }] });
    setTimeout(() => get().drop(id), 5000);
  },
  drop: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
}));
export const toast = (text: string, kind?: Toast['kind']) => useToasts.getState().push(text, kind);
