/**
 * A short beep made with WebAudio (no audio file to fetch): the widget's new-message sound
 * and the console's new-offer sound.
 */

let audio: AudioContext | undefined;

/** Plays a 150 ms beep; silently nothing where audio is blocked or missing. */
export function beep(): void {
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.05;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
  } catch {
    // No WebAudio, or the browser's autoplay policy refused: a sound is not worth an error.
  }
}
