// The report page's files: each chosen photo or PDF is checked here (type, size, how many), uploaded straight to
// storage at an address the API gives for exactly that file, and named in the form before it is sent. Without this
// script the form still sends everything but files; the API checks everything again either way.

import { ATTACHMENT_TYPES } from '../functions/core/report-form.ts';

const TYPES = new Set(Object.keys(ATTACHMENT_TYPES));

const form = document.getElementById('report') as HTMLFormElement | null;
const input = document.getElementById('files') as HTMLInputElement | null;
const status = document.getElementById('upload-status');
const hidden = form?.querySelector<HTMLInputElement>('input[name="attachments"]');

const say = (text: string, bad = false) => {
  if (!status) return;
  status.textContent = text;
  status.style.color = bad ? '#b42318' : '#175cd3';
};

/** A file's type as the API names it: some phones give HEIC photos no type at all. */
function typeOf(file: File): string {
  if (file.type) return file.type;
  return /\.heic$/i.test(file.name) ? 'image/heic' : '';
}

/** Why the chosen files cannot be sent, or undefined. */
function problemWith(files: File[]): string | undefined {
  const max = Number(input?.dataset.max ?? 5);
  const maxBytes = Number(input?.dataset.maxBytes ?? 10 * 1024 * 1024);
  if (files.length > max) return `最多上传 ${max} 个文件，已选 ${files.length} 个`;
  for (const f of files) {
    if (!TYPES.has(typeOf(f))) return `${f.name}：不支持的文件类型，请上传照片（JPG、PNG、HEIC）或 PDF`;
    if (f.size > maxBytes)
      return `${f.name}：文件过大（${(f.size / 1024 / 1024).toFixed(1)} MB），单个文件不能超过 ${maxBytes / 1024 / 1024} MB`;
  }
  return undefined;
}

input?.addEventListener('change', () => {
  const files = [...(input.files ?? [])];
  const problem = problemWith(files);
  if (problem) say(problem, true);
  else say(files.length ? `已选择 ${files.length} 个文件：${files.map((f) => f.name).join('、')}` : '');
});

async function upload(file: File): Promise<{ key: string; name: string; contentType: string; size: number }> {
  const contentType = typeOf(file);
  const res = await fetch(`${location.pathname}/attachments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: file.name, contentType, size: file.size }),
  });
  const answer = (await res.json().catch(() => ({}))) as {
    key?: string;
    uploadUrl?: string;
    message?: string;
  };
  if (!res.ok || !answer.uploadUrl || !answer.key)
    throw new Error(answer.message ?? `上传失败（${res.status}）`);
  const put = await fetch(answer.uploadUrl, {
    method: 'PUT',
    headers: { 'content-type': contentType },
    body: file,
  });
  if (!put.ok) throw new Error(`${file.name} 上传失败，请检查网络后重试`);
  return { key: answer.key, name: file.name, contentType, size: file.size };
}

form?.addEventListener('submit', (event) => {
  const files = [...(input?.files ?? [])];
  if (files.length === 0) return; // Nothing to upload: the form goes as it is.
  event.preventDefault();
  const problem = problemWith(files);
  if (problem) return say(problem, true);
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]');
  if (button) button.disabled = true;
  void (async () => {
    try {
      const done = [];
      for (const [i, f] of files.entries()) {
        say(`正在上传第 ${i + 1}/${files.length} 个文件：${f.name}……`);
        done.push(await upload(f));
      }
      if (hidden) hidden.value = JSON.stringify(done);
      say('文件已上传，正在提交……');
      form.submit();
    } catch (err) {
      say((err as Error).message || '上传失败，请重试', true);
      if (button) button.disabled = false;
    }
  })();
});
