/**
 * The sample's one page. Its script calls `/api/resources`; when the app answers 401 with `action: 'refresh'`
 * (the Easy Auth token expired) it calls `/.auth/refresh` once and retries, as App Service's documentation
 * suggests for front ends; `action: 'login'` (or a refused refresh) goes to `/.auth/login/aad`.
 */
export function samplePage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Your Azure resources — azcred Easy Auth sample</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #1b1b1b; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  .muted { color: #5f5f5f; }
  table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; }
  th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #ddd; }
  th { background: #f3f6fb; }
  #refresh-note { background: #fff6d6; padding: 0.4rem 0.7rem; border-radius: 4px; display: none; }
  #error { color: #a4262c; }
</style>
</head>
<body data-state="loading">
<h1>Your Azure resources</h1>
<p class="muted">Signed in as <strong id="user">…</strong> through App Service authentication (emulated) · <a href="/.auth/logout">Sign out</a></p>
<p id="refresh-note">Your Easy Auth session had expired: the page called <code>/.auth/refresh</code> and tried again.</p>
<p id="error"></p>
<h2>Resource groups</h2>
<table><thead><tr><th>Name</th><th>Location</th></tr></thead><tbody id="resource-groups"></tbody></table>
<h2>Virtual machines</h2>
<table><thead><tr><th>Name</th><th>Resource group</th><th>Size</th><th>Location</th></tr></thead><tbody id="virtual-machines"></tbody></table>
<p class="muted">Listed by the official <code>@azure/arm-resources</code> and <code>@azure/arm-compute</code> clients with
<code>easyAuthCredential(request, options)</code> from <code>@azcred/easy-auth</code>: on behalf of the signed-in user.</p>
<script>
function cell(text) { const td = document.createElement('td'); td.textContent = text ?? ''; return td }
function rows(id, items, fields) {
  const body = document.getElementById(id)
  body.replaceChildren(...items.map((item) => { const tr = document.createElement('tr'); tr.append(...fields.map((field) => cell(item[field]))); return tr }))
}
async function load(retried) {
  const response = await fetch('/api/resources', { headers: { accept: 'application/json' } })
  const body = await response.json().catch(() => ({}))
  if (response.status === 401 && body.action === 'refresh' && !retried) {
    const refreshed = await fetch('/.auth/refresh')
    if (refreshed.ok) { document.getElementById('refresh-note').style.display = 'block'; return load(true) }
  }
  if (response.status === 401) { location.href = '/.auth/login/aad?post_login_redirect_uri=/'; return }
  if (!response.ok) { document.getElementById('error').textContent = body.message ?? 'failed'; document.body.dataset.state = 'error'; return }
  document.getElementById('user').textContent = body.user.name
  rows('resource-groups', body.resourceGroups, ['name', 'location'])
  rows('virtual-machines', body.virtualMachines, ['name', 'resourceGroup', 'vmSize', 'location'])
  document.body.dataset.state = retried ? 'loaded-after-refresh' : 'loaded'
}
load(false)
</script>
</body>
</html>
`
}
