// Progressive enhancement only: every form works without this file.
for (const input of document.querySelectorAll('[data-detect-timezone]')) {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && input.value === 'UTC') input.value = zone;
  } catch {
    // Keep UTC.
  }
}
