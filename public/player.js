// Player page: plays /live/{event}/index.mpd with dash.js or shaka-player, or
// /live/{event}/index.m3u8 with hls.js, and reports what a viewer (or a browser test) cares about: latency, rendition, buffer, stalls,
// errors. Plain browser JS with no build step; players are local copies in /vendor (see
// scripts/vendor-players.ts) because test browsers have no internet access.
//
// Query: ?event=demo&player=dash|shaka|hls&device=browser&token=…&captions=en|es|off (default: the track the
//        manifest marks default, else the first caption language)
//        &audio=es  (the audio language to start with; default: the manifest's main/default one)
//        &alternate=A,B&operator=<OPERATOR_TOKEN>  (diagnostics: fetch every media segment K from
//        pipeline alternate[K mod n] through the operator candidate fetch, to prove the pipelines'
//        segments are interchangeable at any boundary)
//
// Tests read window.__player:
//   kind        'dash' | 'shaka' | 'hls'
//   errors      fatal player errors [{ at, code, message }]   (every dash.js `error` event;
//                                                             shaka `error` events of CRITICAL
//                                                             severity; hls.js ERROR events with
//                                                             fatal: true)
//   warnings    non-fatal hls.js and shaka errors, same shape
//   stalls      [{ start, end }] in ms since the epoch; end is null while still stalled. The wait
//               before the first frame is startup, not a stall, and is kept in `startup`.
//   latency()   seconds from capture to display (see utcOfPlayheadMs), or null
//   rendition() { id, height, bitrateKbps } of the video being played, or null
//   captions()  { language, label, cues: [{ text, start, end }] } of the caption track shown
//               (its active cues, times in seconds of video.currentTime), or null
//   audioLanguages()        [{ language, label }] the manifest offers, one per language, in its order
//   audioLanguage()         the language of the audio being played, or null
//   setAudioLanguage(lang)  switch the audio to that language (what the page's audio menu does)

(function main() {
  const params = new URLSearchParams(location.search);
  const event = params.get('event') || 'demo';
  const KINDS = ['dash', 'shaka', 'hls'];
  const kind = KINDS.includes(params.get('player')) ? params.get('player') : 'dash';
  const token = params.get('token');
  const alternate = (params.get('alternate') || '').split(',').filter(Boolean);
  const operatorToken = params.get('operator');
  const captionsWanted = params.get('captions');
  const audioWanted = params.get('audio');
  // A device profile (docs/manifests.md, "Personalised manifests"): the manifests list only what it plays.
  const device = params.get('device');
  const manifestQuery = new URLSearchParams();
  if (device) manifestQuery.set('device', device);
  if (token) manifestQuery.set('token', token);
  // `&latency=low` (docs/latency.md): hls.js (lowLatencyMode, its default) plays the LL-HLS playlists
  // with parts and blocking reloads; dash.js plays the LL-DASH MPD, whose availabilityTimeComplete
  // "false" turns its low-latency mode on (segments fetched as they are written, parsed chunk by
  // chunk; catch-up to the MPD's low-latency target). Shaka ignores it.
  if (params.get('latency') === 'low' && kind !== 'shaka') manifestQuery.set('latency', 'low');
  // Absolute: shaka's CMCD (query mode) turns a relative URL that has a query into a
  // protocol-relative one (`/live/e/index.mpd?token=…` became `http://live/e/index.mpd?…&CMCD=…`).
  const manifestUrl = new URL(
    `/live/${encodeURIComponent(event)}/index.${kind === 'hls' ? 'm3u8' : 'mpd'}` +
      (manifestQuery.size > 0 ? `?${manifestQuery}` : ''),
    location.href,
  ).href;

  // Encrypted events (docs/drm.md): the Worker's ClearKey license endpoint, which the MPD also
  // signals in clearkey:Laurl. It hands out keys only for a player token (docs/player-tokens.md):
  // the page's own `token` goes with the license request as with the manifest. The page never
  // holds an operator token for playback (`operator` is only for the `alternate` diagnostics).
  const licenseUrl =
    new URL(`/drm/clearkey/${encodeURIComponent(event)}`, location.href).href +
    (token ? `?token=${encodeURIComponent(token)}` : '');

  const video = /** @type {HTMLVideoElement} */ (document.getElementById('video'));
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

  const state = {
    kind,
    manifestUrl,
    errors: [],
    warnings: [],
    stalls: [],
    startup: { start: Date.now(), end: null },
    latency: () => latencySeconds(),
    rendition: () => currentRendition(),
    captions: () => shownCaptions(),
    audioLanguages: () => audioLanguages(),
    audioLanguage: () => currentAudioLanguage(),
    setAudioLanguage: (language) => selectAudioLanguage(language),
    /** The player object itself (dashjs MediaPlayer, shaka.Player or Hls), for tests that need more. */
    instance: null,
  };
  window.__player = state;

  // Header: which event, and links that switch player while keeping event and token.
  $('event-name').textContent = event;
  $('manifest-url').textContent = manifestUrl;
  for (const k of KINDS) {
    const q = new URLSearchParams(params);
    q.set('player', k);
    const a = $(`link-${k}`);
    a.setAttribute('href', `?${q}`);
    if (k === kind) a.setAttribute('aria-current', 'page');
  }
  for (const c of ['en', 'es', 'off']) {
    const q = new URLSearchParams(params);
    q.set('captions', c);
    const a = $(`link-captions-${c}`);
    a.setAttribute('href', `?${q}`);
    if (c === captionsWanted) a.setAttribute('aria-current', 'page');
  }
  $('retry').addEventListener('click', () => location.reload());

  // ---- stalls: a `waiting` after the first `playing` until the next `playing` -------------------
  video.addEventListener('playing', () => {
    if (state.startup.end === null) state.startup.end = Date.now();
    const open = state.stalls[state.stalls.length - 1];
    if (open && open.end === null) open.end = Date.now();
  });
  video.addEventListener('waiting', () => {
    // Seeks (user or catch-up) also fire `waiting`; those are not stalls.
    if (state.startup.end === null || video.seeking) return;
    const open = state.stalls[state.stalls.length - 1];
    if (!open || open.end !== null) state.stalls.push({ start: Date.now(), end: null });
  });

  // ---- errors ----------------------------------------------------------------------------------
  function record(list, entry) {
    list.push({ at: Date.now(), ...entry });
    const li = document.createElement('li');
    li.className = list === state.errors ? 'fatal' : 'warning';
    li.textContent = `${new Date().toISOString().slice(11, 19)} ${entry.code}: ${entry.message}`;
    $('log').prepend(li);
    if (list === state.errors) showError(`${entry.code}: ${entry.message}`);
  }
  function showError(text) {
    $('error-text').textContent = text;
    $('error').classList.add('shown');
  }

  // ---- players ---------------------------------------------------------------------------------
  /** Reads the UTC time (ms) of the frame on screen; set up by each player. */
  let utcOfPlayheadMs = () => null;
  /** The player's own latency estimate in seconds, shown beside ours. */
  let playerLatency = () => null;
  /** The video representation being played. */
  let currentRendition = () => null;
  /** Audio tracks as [{ language, label }], several per language when it comes in several codecs. */
  let audioTracks = () => [];
  /** The language of the audio being played. */
  let currentAudioLanguage = () => null;
  /** Switch to the first audio track of a language. */
  let selectAudioLanguage = (_language) => {};

  function startDash() {
    const player = dashjs.MediaPlayer().create();
    state.instance = player;
    player.updateSettings({
      streaming: {
        // No delay setting: the MPD's ServiceDescription Latency@target says where to sit (the
        // event's latency block, docs/manifests.md), and a player setting would override it.
        // Catch-up plays within the MPD's PlaybackRate to stay at the target.
        liveCatchup: { enabled: true },
        // Captions on from the start (docs/captions.md): dash.js renders stpp/IMSC1 cues on the
        // video element's text track.
        text: { defaultEnabled: captionsWanted !== 'off' },
        // CMCD in the query (docs/cmcd.md): the edge counts sessions, bitrates, starvation and
        // startup per event. CMSD: follow the edge's max suggested bitrate when it is under duress.
        cmcd: { enabled: true, mode: 'query' },
        cmsd: { enabled: true, abr: { applyMb: true } },
      },
    });
    if (alternate.length > 0) {
      player.addRequestInterceptor((request) => {
        const pick = pipelineFor(request.url);
        if (pick) {
          const url = new URL(request.url, location.href);
          url.searchParams.set('pipeline', pick);
          request.url = url.toString();
          request.headers = { ...(request.headers || {}), authorization: `Bearer ${operatorToken}` };
        }
        return Promise.resolve(request);
      });
    }
    // Encrypted events (docs/drm.md): the MPD signals ClearKey with clearkey:Laurl, which dash.js
    // reads itself; naming the Worker's license endpoint here as well covers players that do not.
    // Clear streams never ask for a license, so this changes nothing for them.
    player.setProtectionData({ 'org.w3.clearkey': { serverURL: licenseUrl } });
    player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
      const err = e.error || {};
      record(state.errors, { code: `dash ${err.code ?? '?'}`, message: err.message || String(err) });
    });
    // The caption language must be chosen after initialize() and before the source is attached.
    player.initialize(video, null, true);
    // dash.js shows TTML (our stpp captions) only in an overlay it renders into.
    player.attachTTMLRenderingDiv($('ttml-captions'));
    if (captionsWanted && captionsWanted !== 'off') player.setInitialMediaSettingsFor('text', { lang: captionsWanted });
    if (audioWanted) player.setInitialMediaSettingsFor('audio', { lang: audioWanted });
    player.attachSource(manifestUrl);
    // With availabilityStartTime 1970, Period@start 0 and presentationTimeOffset 0, dash.js puts
    // media time straight on the video element, and media time IS UTC (tfdt = K·D since the
    // epoch): currentTime is the capture time of the frame on screen, in seconds.
    utcOfPlayheadMs = () => (video.currentTime > 0 ? video.currentTime * 1000 : null);
    playerLatency = () => (player.isReady() && player.isDynamic() ? player.getCurrentLiveLatency() : null);
    currentRendition = () => {
      const r = player.isReady() ? player.getCurrentRepresentationForType('video') : null;
      return r ? { id: r.id, height: r.height, bitrateKbps: Math.round(r.bandwidth / 1000) } : null;
    };
    // One AdaptationSet per language and codec family (docs/manifests.md): the first of a language
    // is the one this browser can play (the device profile removed the others).
    audioTracks = () =>
      player.isReady()
        ? player.getTracksFor('audio').map((t) => ({ language: t.lang, label: t.labels?.[0]?.text || t.lang }))
        : [];
    currentAudioLanguage = () => (player.isReady() ? (player.getCurrentTrackFor('audio')?.lang ?? null) : null);
    selectAudioLanguage = (language) => {
      const track = player.getTracksFor('audio').find((t) => t.lang === language);
      if (track) player.setCurrentTrack(track);
    };
  }

  async function startShaka() {
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) {
      record(state.errors, {
        code: 'shaka unsupported',
        message: 'this browser lacks what shaka-player needs (MSE/EME)',
      });
      return;
    }
    const player = new shaka.Player();
    state.instance = player;
    player.configure({
      // The same ClearKey license endpoint the MPD signals in clearkey:Laurl. Shaka maps the
      // DASH-IF ClearKey ContentProtection to org.w3.clearkey but takes the server from here.
      // Clear streams never ask for a license, so this changes nothing for them.
      drm: { servers: { 'org.w3.clearkey': licenseUrl } },
      // Where to sit: the MPD's suggestedPresentationDelay (the event's latency target), which
      // shaka honours by default.
      // Segment retries as a live deployment would set them: a segment the origin answers 404
      // (not published yet, DESIGN.md §4) is asked again for about 3.5 s before shaka gives up
      // (its default, 2 attempts, fails after 1 s: a late pipeline became a critical error).
      streaming: {
        liveSync: { enabled: true },
        retryParameters: {
          maxAttempts: 4,
          baseDelay: 500,
          backoffFactor: 2,
          fuzzFactor: 0.5,
          timeout: 30000,
          stallTimeout: 5000,
          connectionTimeout: 10000,
        },
      },
      // Captions (docs/captions.md): the asked-for language, else the first the manifest lists;
      // and the audio language asked for (&audio=). shaka 5's preference lists (its older
      // preferredTextLanguage is deprecated), used when it chooses the first streams; fields left
      // out are no preference.
      ...(captionsWanted && captionsWanted !== 'off' ? { preferredText: [{ language: captionsWanted }] } : {}),
      ...(audioWanted ? { preferredAudio: [{ language: audioWanted }] } : {}),
      // CMCD in the query, as dash.js sends it (docs/cmcd.md).
      cmcd: { enabled: true },
    });
    player.addEventListener('error', (e) => {
      const err = e.detail || {};
      // err.data names the request (URI, HTTP status) for network errors: what a tester needs.
      const entry = {
        code: `shaka ${err.category ?? '?'}/${err.code ?? '?'}`,
        message: `${err.message || `shaka error ${err.code}`} (data: ${JSON.stringify(err.data ?? []).slice(0, 300)})`,
      };
      record(err.severity === shaka.util.Error.Severity.CRITICAL ? state.errors : state.warnings, entry);
    });
    if (alternate.length > 0) {
      player.getNetworkingEngine().registerRequestFilter((_type, request) => {
        const pick = pipelineFor(request.uris[0]);
        if (!pick) return;
        request.uris = request.uris.map((u) => {
          const url = new URL(u, location.href);
          url.searchParams.set('pipeline', pick);
          return url.toString();
        });
        request.headers.authorization = `Bearer ${operatorToken}`;
      });
    }
    // shaka maps the playhead to wall-clock time itself (availabilityStartTime + period time),
    // which here is the capture time of the frame on screen.
    utcOfPlayheadMs = () => {
      const d = player.isLive() ? player.getPlayheadTimeAsDate() : null;
      return d && video.currentTime > 0 ? d.getTime() : null;
    };
    playerLatency = () => (player.isLive() ? player.getStats().liveLatency : null);
    currentRendition = () => {
      const t = player.getVariantTracks().find((v) => v.active);
      return t
        ? {
            id: String(t.originalVideoId ?? t.videoId ?? t.id),
            height: t.height,
            bitrateKbps: Math.round((t.videoBandwidth || t.bandwidth) / 1000),
          }
        : null;
    };
    audioTracks = () => player.getAudioTracks().map((t) => ({ language: t.language, label: t.label || t.language }));
    currentAudioLanguage = () => player.getAudioTracks().find((t) => t.active)?.language ?? null;
    selectAudioLanguage = (language) => {
      const track = player.getAudioTracks().find((t) => t.language === language);
      if (track) player.selectAudioTrack(track);
    };
    await player.attach(video);
    try {
      await player.load(manifestUrl);
      const text = player.getTextTracks();
      if (captionsWanted !== 'off' && text.length > 0) {
        // shaka 5 shows the selected text track (visibility follows selection).
        if (!text.some((t) => t.active)) player.selectTextTrack(text[0]);
      }
    } catch (err) {
      // load() rejects with the same error the 'error' event reports; record it once.
      if (!state.errors.length)
        record(state.errors, {
          code: `shaka ${err.category ?? '?'}/${err.code ?? '?'}`,
          message: err.message || String(err),
        });
    }
  }

  async function startHls() {
    if (!Hls.isSupported()) {
      record(state.errors, { code: 'hls unsupported', message: 'this browser has no Media Source Extensions' });
      return;
    }
    // Encrypted events (docs/drm.md) announce their keys in the multivariant playlist; only then is
    // hls.js given EME (ClearKey, license from the endpoint the MPD signals), so clear streams run
    // exactly as without DRM support.
    const encrypted = await fetch(manifestUrl)
      .then((r) => r.text())
      .then(
        (t) => t.includes('#EXT-X-SESSION-KEY'),
        () => false,
      );
    const hls = new Hls({
      // No liveSyncDuration(Count): the media playlist's HOLD-BACK says where to start (docs/manifests.md).
      // CMCD (docs/cmcd.md): an object turns it on; hls.js sends it in the query by default.
      cmcd: {},
      // Low latency: a player that started late (a slow first part) plays up to 1.5× until it
      // sits at PART-HOLD-BACK again; at hls.js's default of 1× it never wins the time back
      // (docs/latency.md has both figures).
      ...(manifestQuery.get('latency') === 'low' ? { maxLiveSyncPlaybackRate: 1.5 } : {}),
      ...(encrypted ? { emeEnabled: true, drmSystems: { 'org.w3.clearkey': { licenseUrl } } } : {}),
      // Show the SUBTITLES rendition hls.js selects (DEFAULT=YES, or the one asked for below).
      subtitleDisplay: captionsWanted !== 'off',
      // The audio language asked for (&audio=): hls.js picks the matching EXT-X-MEDIA rendition
      // (in another audio group if need be) instead of the DEFAULT=YES one.
      ...(audioWanted ? { audioPreference: { lang: audioWanted } } : {}),
      xhrSetup:
        alternate.length === 0
          ? undefined
          : (xhr, url) => {
              const pick = pipelineFor(url);
              if (!pick) return;
              const u = new URL(url, location.href);
              u.searchParams.set('pipeline', pick);
              xhr.open('GET', u.toString(), true);
              xhr.setRequestHeader('authorization', `Bearer ${operatorToken}`);
            },
    });
    state.instance = hls;
    let mediaRecoveries = 0;
    hls.on(Hls.Events.ERROR, (_name, data) => {
      const status = data.response?.code ? ` (HTTP ${data.response.code})` : '';
      const entry = {
        code: `hls ${data.type}/${data.details}`,
        message: `${data.error ? data.error.message : data.details}${status}`,
      };
      record(data.fatal ? state.errors : state.warnings, entry);
      // The standard hls.js recovery for a decode error; anything else fatal stays shown.
      if (data.fatal && data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 2) hls.recoverMediaError();
    });
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_name, data) => {
      if (captionsWanted === 'off') hls.subtitleTrack = -1;
      else if (captionsWanted) {
        const i = data.subtitleTracks.findIndex((t) => t.lang === captionsWanted);
        if (i >= 0 && hls.subtitleTrack !== i) hls.subtitleTrack = i;
      } else if (hls.subtitleTrack < 0 && data.subtitleTracks.length > 0) hls.subtitleTrack = 0;
    });
    // hls.audioTracks are the renditions of the playing variant's audio group (one codec family).
    audioTracks = () => hls.audioTracks.map((t) => ({ language: t.lang, label: t.name || t.lang }));
    currentAudioLanguage = () => hls.audioTracks[hls.audioTrack]?.lang ?? null;
    // setAudioOption makes the language the preference (kept when ABR moves to another audio group)
    // and switches now, dropping the other language's buffered audio (flushImmediate).
    selectAudioLanguage = (language) => hls.setAudioOption({ lang: language, flushImmediate: true });
    hls.loadSource(manifestUrl);
    hls.attachMedia(video);
    // hls.js starts its own timeline near 0, so currentTime is not UTC here; it maps the playhead
    // back to EXT-X-PROGRAM-DATE-TIME (which the origin writes as K·D since the epoch).
    utcOfPlayheadMs = () => (hls.playingDate ? hls.playingDate.getTime() : null);
    playerLatency = () => (hls.latestLevelDetails?.live ? hls.latency : null);
    currentRendition = () => {
      const level = hls.levels[hls.currentLevel];
      return level
        ? {
            id: level.url[0].split('/').slice(-2, -1)[0] || String(hls.currentLevel),
            height: level.height,
            bitrateKbps: Math.round(level.bitrate / 1000),
          }
        : null;
    };
  }

  /**
   * With ?alternate=A,B: the pipeline a media segment is fetched from (K mod n), or null for
   * manifests and anything else. Init segments come from the first pipeline (they are
   * byte-identical across pipelines).
   */
  function pipelineFor(url) {
    // Caption tracks are written from cues, not published by pipelines: nothing to alternate.
    if (/\/text-[^/]+\//.test(url)) return null;
    const m = /\/(\d+)\.m4s(\?|$)/.exec(url);
    if (m) return alternate[Number(m[1]) % alternate.length];
    return /\/init\.mp4(\?|$)/.test(url) ? alternate[0] : null;
  }

  /**
   * Latency as the viewer experiences it: wall clock now minus the capture time (UTC) of the
   * frame on screen. The same figure for both players, because both get the frame's UTC from
   * the epoch-locked timeline; the players' own estimates are shown beside it.
   */
  function latencySeconds() {
    const utc = utcOfPlayheadMs();
    return utc === null ? null : (Date.now() - utc) / 1000;
  }

  /** The caption track on screen (mode "showing") and its active cues. */
  function shownCaptions() {
    const track = Array.from(video.textTracks).find(
      (t) => t.mode === 'showing' && (t.kind === 'subtitles' || t.kind === 'captions'),
    );
    if (!track) return null;
    // dash.js renders TTML cues as HTML: cue.text is empty and the overlay holds what is on
    // screen, one element per active cue whose id is the cue's cueID ("cue_TTML_<n>").
    const cueText = (c) => {
      // WebVTT cue text may carry markup (shaka writes TTML styles as <c.white.bg_black>): show the words.
      if (c.text) return c.text.replace(/<[^>]*>/g, '');
      const shown = c.cueID ? document.getElementById(c.cueID) : null;
      return shown ? shown.textContent : '';
    };
    const cues = Array.from(track.activeCues || []).map((c) => ({
      text: cueText(c).trim(),
      start: c.startTime,
      end: c.endTime,
    }));
    return { language: track.language, label: track.label, cues };
  }

  /** One entry per language, in the manifest's order (a language may come in AAC and E-AC-3). */
  function audioLanguages() {
    const seen = new Map();
    for (const t of audioTracks()) if (t.language && !seen.has(t.language)) seen.set(t.language, t);
    return [...seen.values()];
  }

  // ---- audio-language menu: filled when the player knows the tracks, switches on change ---------
  const audioMenu = /** @type {HTMLSelectElement} */ ($('audio-language'));
  audioMenu.addEventListener('change', () => selectAudioLanguage(audioMenu.value));
  function updateAudioMenu() {
    const languages = audioLanguages();
    const key = languages.map((l) => `${l.language}:${l.label}`).join('|');
    if (audioMenu.dataset.key !== key) {
      audioMenu.dataset.key = key;
      audioMenu.replaceChildren(
        ...languages.map((l) => {
          const option = document.createElement('option');
          option.value = l.language;
          option.textContent = l.label === l.language ? l.language : `${l.label} (${l.language})`;
          return option;
        }),
      );
      audioMenu.disabled = languages.length < 2;
    }
    const current = currentAudioLanguage();
    if (current && audioMenu.value !== current && document.activeElement !== audioMenu) audioMenu.value = current;
  }

  function bufferSeconds() {
    const b = video.buffered;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) <= video.currentTime + 0.1 && video.currentTime < b.end(i)) return b.end(i) - video.currentTime;
    }
    return 0;
  }

  // ---- status panel, every 500 ms --------------------------------------------------------------
  const fmt = (s, unit = 's') =>
    s === null || s === undefined || !Number.isFinite(s) ? '–' : `${s.toFixed(2)} ${unit}`;
  setInterval(() => {
    $('s-latency').textContent = fmt(latencySeconds());
    $('s-player-latency').textContent = fmt(playerLatency());
    const r = currentRendition();
    $('s-rendition').textContent = r ? `${r.height}p · ${r.bitrateKbps} kbps` : '–';
    $('s-buffer').textContent = fmt(bufferSeconds());
    $('s-stalls').textContent = String(state.stalls.length);
    $('s-errors').textContent = String(state.errors.length);
    $('s-warnings').textContent = String(state.warnings.length);
    updateAudioMenu();
    const cc = shownCaptions();
    // dash.js labels its text tracks by index: show the language then.
    $('s-captions').textContent = cc
      ? `${cc.label && !/^\d+$/.test(cc.label) ? cc.label : cc.language}${cc.cues.length ? ` · “${cc.cues.map((c) => c.text).join(' / ')}”` : ''}`
      : 'off';
  }, 500);

  // ---- load the player library, then start ------------------------------------------------------
  const lib = { dash: '/vendor/dash.all.min.js', shaka: '/vendor/shaka-player.compiled.js', hls: '/vendor/hls.min.js' }[
    kind
  ];
  const script = document.createElement('script');
  script.src = lib;
  script.onload = () => {
    try {
      if (kind === 'dash') startDash();
      else if (kind === 'shaka')
        startShaka().catch((err) =>
          record(state.errors, { code: 'page', message: err instanceof Error ? err.message : String(err) }),
        );
      else
        startHls().catch((err) =>
          record(state.errors, { code: 'page', message: err instanceof Error ? err.message : String(err) }),
        );
    } catch (err) {
      record(state.errors, { code: 'page', message: err instanceof Error ? err.message : String(err) });
    }
  };
  script.onerror = () =>
    record(state.errors, { code: 'page', message: `could not load ${lib} (run: node scripts/vendor-players.ts)` });
  document.head.append(script);
})();
