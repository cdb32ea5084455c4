import { UserError } from '../../src/errors.js';

/** apk architecture names → OCI platform (GOARCH names and ARM variants). */
const PLATFORMS: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  aarch64: { architecture: 'arm64', variant: 'v8' },
  armv7: { architecture: 'arm', variant: 'v7' },
  armhf: { architecture: 'arm', variant: 'v6' },
  x86: { architecture: '386' },
  ppc64le: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  loongarch64: { architecture: 'loong64' },
};

export function apkPlatform(arch: string): { architecture: string; variant?: string } {
  const p = PLATFORMS[arch];
  if (!p) {
    throw new UserError(
      `image.architectures: "${arch}" is not an apk architecture (${Object.keys(PLATFORMS).join(', ')}); apk names them as Alpine does, e.g. x86_64 rather than amd64`,
    );
  }
  return p;
}
