/** `environment.ssh` and a host's `ssh:` in track.yml: what lint refuses, at which line. */
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, lintLab } from '../../lib/labs/lint';
import { loadLab } from '../../lib/labs/loader';
import { hostHasSsh, platformSshPath, sshHostNames } from '../../lib/labs/ssh';
import { makeLab, removeLabs } from './tmp-lab';

afterAll(removeLabs);

const lint = async (dir: string) => (await lintLab(dir)).map(formatProblem);

const track = (env: string[]) => ['slug: tmp-lab', 'title: Temporary lab', 'environment:', ...env, ''].join('\n');

describe('ssh in track.yml', () => {
  it('accepts ssh for a docker environment, with a host opting out, and knows which hosts have it', async () => {
    const dir = makeLab({
      'track.yml': track([
        '  driver: docker',
        '  ssh: true',
        '  hosts:',
        '    - { name: workstation, image: labforge/base:dev }',
        '    - { name: luke, image: labforge/base:dev, files: [{ from: assets/config, to: /root/.ssh/config }] }',
        '    - { name: printer, image: labforge/base:dev, ssh: false, files: [{ from: assets/config, to: /root/.ssh/authorized_keys }] }',
      ]),
      'assets/config': 'Host *\n',
    });
    expect(await lint(dir)).toEqual([]);
    const env = (await loadLab(dir)).lab!.track.environment;
    expect(sshHostNames(env)).toEqual(['workstation', 'luke']);
  });

  it('refuses lab files where the platform writes its SSH files, naming the line', async () => {
    const dir = makeLab({
      'track.yml': track([
        '  driver: docker',
        '  hosts:',
        '    - name: workstation',
        '      image: labforge/base:dev',
        '      ssh: true',
        '      files:',
        '        - { from: assets/key, to: /root/.ssh/id_ed25519 }',
        '        - { from: assets/ssh, to: /etc/ }',
        '        - { from: assets/key, to: /root/notes.txt }',
      ]),
      'assets/key': 'x\n',
      'assets/ssh/ssh_config': 'x\n',
    });
    expect(await lint(dir)).toEqual([
      `${dir}/track.yml:10: error: environment.hosts[0].files[0].to: /root/.ssh/id_ed25519 is written by the platform in hosts with ssh: leave it out of files:, or set ssh: false on host workstation`,
      `${dir}/track.yml:11: error: environment.hosts[0].files[1].to: /etc/ssh/ssh_host_ed25519_key is written by the platform in hosts with ssh: leave it out of files:, or set ssh: false on host workstation`,
    ]);
  });

  it('refuses ssh for a kind environment, where it would do nothing', async () => {
    const dir = makeLab({
      'track.yml': track([
        '  driver: kind',
        '  ssh: true',
        '  cluster:',
        '    nodes: [{ role: control-plane }]',
        '  hosts:',
        '    - name: workstation',
        '      image: labforge/base:dev',
        '      ssh: false',
      ]),
    });
    const problems = await lint(dir);
    expect(problems).toContain(
      `${dir}/track.yml:5: error: environment.ssh: host-to-host ssh is for docker environments: a kind lab reaches its pods with kubectl exec`,
    );
    expect(problems).toContain(
      `${dir}/track.yml:11: error: environment.hosts[0].ssh: host-to-host ssh is for docker environments: a kind lab reaches its pods with kubectl exec`,
    );
  });

  it('a host setting wins over the environment, and off is the default', () => {
    expect(hostHasSsh({}, { name: 'a' })).toBe(false);
    expect(hostHasSsh({ ssh: true }, { name: 'a' })).toBe(true);
    expect(hostHasSsh({ ssh: true }, { name: 'a', ssh: false })).toBe(false);
    expect(hostHasSsh({ ssh: false }, { name: 'a', ssh: true })).toBe(true);
    expect(platformSshPath({ from: 'assets/x', to: '/root/.ssh/config' })).toBeUndefined();
    expect(platformSshPath({ from: 'assets/authorized_keys', to: '/root/.ssh/' })).toBe('/root/.ssh/authorized_keys');
    expect(platformSshPath({ from: 'assets/dotssh', to: '/root/.ssh' })).toBe('/root/.ssh/id_ed25519');
  });
});
