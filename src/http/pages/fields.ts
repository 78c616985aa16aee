import type { Frequency } from '../../db/schema.js';
import { html } from '../html.js';

export const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const topicsField = (topics: readonly string[]) => html`
<div class="field">
<label for="topics">Topics <span class="hint">one per line, up to 20; leave empty for the most upvoted papers</span></label>
<textarea id="topics" name="topics" rows="5" maxlength="4200" spellcheck="false"
  placeholder="diffusion models&#10;cat:cs.LG quantization -survey" aria-describedby="topic-help"
  data-topic-preview="topic-preview">${topics.join('\n')}</textarea>
<details id="topic-help" class="hint"><summary>How to write a topic</summary>
<p>Words must all appear (<code>diffusion models</code>); word forms match (<code>quantized</code> finds
<code>quantization</code>). <code>"exact phrase"</code>, <code>a OR b</code>, parentheses, <code>-word</code> or
<code>NOT word</code> to exclude. Fields: <code>title:</code>, <code>abstract:</code>,
<code>author:"Name Surname"</code>, <code>cat:cs.LG</code>. <code>like:2511.12345</code> (or an arXiv link)
finds papers similar to that one.</p></details>
<div id="topic-preview" class="preview" aria-live="polite" hidden></div>
</div>`;

export const frequencyField = (frequency: Frequency) => html`
<fieldset class="inline"><legend>How often</legend>
<label><input type="radio" name="frequency" value="daily" ${frequency === 'daily' ? 'checked' : ''}> Daily</label>
<label><input type="radio" name="frequency" value="weekly" ${frequency === 'weekly' ? 'checked' : ''}> Weekly</label>
</fieldset>`;

export const errorBox = (message: string | undefined) =>
  message ? html`<p class="error" role="alert">${message}</p>` : '';
