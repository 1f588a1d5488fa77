// Ringing a notification: a desktop notification (when the user allowed it) and
// a short tone. Permission is only ever asked from a click (`askPermission`),
// never on load; the audio context is made at the first ring, not before.

let audio: AudioContext | null = null;

/** Whether the browser can still ask for permission (never asked, never refused). */
export function canAsk(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'default';
}

export function blocked(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'denied';
}

/** Asks for desktop notifications; call only from a user's click. */
export async function askPermission(): Promise<NotificationPermission | null> {
  if (typeof Notification === 'undefined') return null;
  return Notification.requestPermission();
}

/** A desktop notification (if allowed) and a tone; `tag` replaces an earlier one with the same tag. */
export function ring(title: string, body: string, tag: string, onClick?: () => void) {
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    try {
      const shown = new Notification(title, { body, tag });
      shown.onclick = () => {
        window.focus();
        onClick?.();
        shown.close();
      };
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }
  tone();
}

/** Two short beeps; silent where audio is not allowed yet (no click on the page so far). */
function tone() {
  try {
    audio ??= new AudioContext();
    const at = audio.currentTime;
    for (const [start, freq] of [[0, 880], [0.18, 1175]] as const) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.12, at + start);
      gain.gain.exponentialRampToValueAtTime(0.001, at + start + 0.15);
      osc.connect(gain).connect(audio.destination);
      osc.start(at + start);
      osc.stop(at + start + 0.16);
    }
  } catch {
    /* no audio */
  }
}
