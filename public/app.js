// Progressive enhancement only: every form works without this file.

for (const input of document.querySelectorAll('[data-detect-timezone]')) {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && input.value === 'UTC') input.value = zone;
  } catch {
    // Keep UTC.
  }
}

// The weekly day only matters for a weekly digest.
for (const form of document.querySelectorAll('form')) {
  const day = form.querySelector('[data-weekly-only]');
  if (!day) continue;
  const sync = () => {
    day.hidden = form.querySelector('input[name="frequency"]:checked')?.value !== 'weekly';
  };
  for (const radio of form.querySelectorAll('input[name="frequency"]'))
    radio.addEventListener('change', sync);
  sync();
}

// Live preview: what each topic line would have caught in the last week, as the subscriber types.
const previewDays = 7;
const element = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

for (const textarea of document.querySelectorAll('[data-topic-preview]')) {
  const panel = document.getElementById(textarea.dataset.topicPreview);
  if (!panel) continue;
  const cache = new Map();
  let timer;
  let generation = 0;

  const previewOf = async (topic) => {
    if (!cache.has(topic)) {
      const query = new URLSearchParams({ q: topic, days: String(previewDays), limit: '3' });
      const answer = fetch(`/api/topics/preview?${query}`, { headers: { accept: 'application/json' } }).then(
        async (response) => {
          // Keep only answers that will not change: a 429 or a server error is asked again next time.
          if (response.status !== 200 && response.status !== 400) cache.delete(topic);
          return response.json();
        },
        (error) => {
          cache.delete(topic);
          throw error;
        },
      );
      cache.set(topic, answer);
    }
    return cache.get(topic);
  };

  const render = async () => {
    const run = ++generation;
    const topics = textarea.value
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean)
      .slice(0, 20);
    if (topics.length === 0) {
      panel.hidden = true;
      panel.replaceChildren();
      return;
    }
    let results;
    try {
      results = await Promise.all(topics.map(previewOf));
    } catch {
      return; // offline or server busy: the form still works
    }
    if (run !== generation) return; // a newer keystroke won
    const items = topics.map((topic, i) => {
      const result = results[i];
      const item = element('li', 'preview-topic');
      item.append(element('code', '', topic));
      if (result.error) {
        const at = result.error.details?.position;
        item.append(element('span', 'preview-error', ` ${result.error.message}`));
        if (typeof at === 'number') item.dataset.position = String(at);
        return item;
      }
      const count = result.total === 1 ? '1 paper' : `${result.total} papers`;
      item.append(element('span', 'preview-count', ` ${count} in the last ${previewDays} days`));
      // The same topic as a feed, for a feed reader: no subscription needed.
      const follow = element('a', 'preview-feed', 'Follow as a feed');
      follow.href = `/feeds/topic.atom?${new URLSearchParams({ q: topic })}`;
      follow.setAttribute('aria-label', `Follow “${topic}” as a feed`);
      item.append(' ', follow);
      // What each like: names: its title, or that paperboy asks arXiv for it once the topics are saved.
      for (const like of result.likes ?? []) {
        const text = like.title
          ? `like:${like.arxivId} is “${like.title}”`
          : `like:${like.arxivId}: paperboy does not have this paper yet; it asks arXiv for it when you save`;
        item.append(element('span', 'hint preview-like', ` ${text}.`));
      }
      if (result.matches.length > 0) {
        const list = element('ul', 'preview-papers');
        for (const match of result.matches) {
          const entry = element('li');
          const link = element('a', '', match.title);
          link.href = `https://arxiv.org/abs/${encodeURIComponent(match.arxivId).replace('%2F', '/')}`;
          link.rel = 'noopener';
          link.target = '_blank';
          entry.append(link);
          if (match.matched.length > 0)
            entry.append(element('span', 'hint', ` — ${match.matched.join(', ')}`));
          list.append(entry);
        }
        item.append(list);
      }
      return item;
    });
    const list = element('ul', 'preview-list');
    list.append(...items);
    panel.replaceChildren(element('p', 'preview-title', 'Preview'), list);
    panel.hidden = false;
  };

  textarea.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(render, 300);
  });
  if (textarea.value.trim()) void render();
}

// "Or choose a BibTeX file": the file's text goes into the box it names, to be sent with the form.
for (const input of document.querySelectorAll('input[type="file"][data-fills]')) {
  input.addEventListener('change', async () => {
    const target = document.getElementById(input.dataset.fills ?? '');
    const [file] = input.files ?? [];
    if (!target || !file) return;
    target.value = await file.text();
  });
}

// Copy buttons: shown only where the script runs (without it, the address can be selected and copied).
for (const button of document.querySelectorAll('button[data-copy]')) {
  const source = document.getElementById(button.dataset.copy ?? '');
  if (!source) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      button.textContent = 'Copied';
    } catch {
      source.select(); // no clipboard access (plain http): select it for Ctrl+C
      button.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 2000);
  });
}
