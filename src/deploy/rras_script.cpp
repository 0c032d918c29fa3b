#include "deploy/rras_script.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "deploy/errc.hpp"

namespace certfleet::deploy {
namespace {

// Helpers of the script. Plain PowerShell 5.1: no here-strings, no closures.
constexpr std::string_view script_functions = R"ps(
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2
$AppId = '{ba195980-cd49-458b-9e23-c84ee0adcd75}'
$KeyPath = 'SYSTEM\CurrentControlSet\Services\SstpSvc\Parameters'
$Names = @('SHA256CertificateHash', 'SHA1CertificateHash', 'isHashConfiguredByAdmin')
$R = [ordered]@{ ok = $false; stage = 'init'; message = ''; rolled_back = $false; thumbprint = $NewSha1Hex; sha256 = $NewSha256Hex; old_thumbprint = $null }
function Hex([byte[]]$b) { return ([BitConverter]::ToString($b) -replace '-', '').ToLower() }
function H256([byte[]]$d) { return Hex ((New-Object Security.Cryptography.SHA256CryptoServiceProvider).ComputeHash($d)) }
function H1([byte[]]$d) { return Hex ((New-Object Security.Cryptography.SHA1CryptoServiceProvider).ComputeHash($d)) }
function Snap-Reg {
  $k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($KeyPath)
  $s = @{}
  foreach ($n in ($Names + @('UseHttps', 'ListenerPort'))) {
    if ($k -and ($k.GetValueNames() -contains $n)) { $s[$n] = @{ Kind = $k.GetValueKind($n); Val = $k.GetValue($n) } } else { $s[$n] = $null }
  }
  if ($k) { $k.Close() }
  return $s
}
function Restore-Reg($s) {
  $k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($KeyPath, $true)
  foreach ($n in $Names) {
    if ($s[$n]) { $k.SetValue($n, $s[$n].Val, $s[$n].Kind) } elseif ($k.GetValueNames() -contains $n) { $k.DeleteValue($n) }
  }
  $k.Close()
}
function Read-Bind($selector) {
  $ErrorActionPreference = 'Continue'
  $o = & netsh http show sslcert $selector 2>&1
  if ($LASTEXITCODE -ne 0) { return $null }
  $t = ($o -join "`n")
  $h = [regex]::Match($t, '\b[0-9a-fA-F]{40}\b').Value.ToLower()
  if (-not $h) { return $null }
  return @{ Hash = $h; AppId = [regex]::Match($t, '\{[0-9a-fA-F-]{36}\}').Value }
}
function Get-Bind($ipport) { return Read-Bind "ipport=$ipport" }
function Set-Bind($ipport, $hash, $appid) {
  $ErrorActionPreference = 'Continue'
  & netsh http delete sslcert "ipport=$ipport" 2>&1 | Out-Null
  if ($hash) {
    $o = & netsh http add sslcert "ipport=$ipport" "certhash=$hash" "appid=$appid" 'certstorename=MY' 2>&1
    if ($LASTEXITCODE -ne 0) { throw "netsh add sslcert $ipport failed: $o" }
  }
}
function Wait-Svc($name, $status) {
  $sc = New-Object ServiceProcess.ServiceController $name
  $sc.WaitForStatus($status, [TimeSpan]::FromSeconds($SvcTimeoutSec))
}
function Restart-Sstp {
  $sc = New-Object ServiceProcess.ServiceController 'SstpSvc'
  $run = @($sc.DependentServices | Where-Object { $_.Status -eq 'Running' } | ForEach-Object { $_.ServiceName })
  $ra = New-Object ServiceProcess.ServiceController 'RemoteAccess'
  if ($ra.Status -eq 'Running') { $ra.Stop(); Wait-Svc 'RemoteAccess' 'Stopped' }
  $sc.Refresh()
  if ($sc.Status -ne 'Stopped') { $sc.Stop() }
  Wait-Svc 'SstpSvc' 'Stopped'
  foreach ($n in (@('RemoteAccess') + $run | Select-Object -Unique)) {
    $x = New-Object ServiceProcess.ServiceController $n
    if ($x.Status -eq 'Stopped') { $x.Start() }
    Wait-Svc $n 'Running'
  }
}
function Probe($ip, $port) {
  $tcp = New-Object Net.Sockets.TcpClient
  $wait = $tcp.BeginConnect($ip, $port, $null, $null)
  if (-not $wait.AsyncWaitHandle.WaitOne(5000)) { $tcp.Close(); throw "no TCP connection to $ip port $port within 5 s" }
  $tcp.EndConnect($wait)
  $accept = [Net.Security.RemoteCertificateValidationCallback] { return $true }
  $ssl = New-Object Net.Security.SslStream($tcp.GetStream(), $false, $accept)
  try {
    $ssl.ReadTimeout = 10000
    $ssl.WriteTimeout = 10000
    $ssl.AuthenticateAsClient($ProbeHost, $null, [Security.Authentication.SslProtocols]::Tls12, $false)
    $seen = H256 (New-Object Security.Cryptography.X509Certificates.X509Certificate2($ssl.RemoteCertificate)).RawData
    if ($seen -ne $NewSha256Hex) { throw "$ip port $port serves the certificate $seen" }
    $crlf = [string][char]13 + [char]10
    $q = 'SSTP_DUPLEX_POST /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1' + $crlf + 'Host: ' + $ProbeHost + $crlf
    $q += 'SSTPCORRELATIONID: {' + [guid]::NewGuid().ToString() + '}' + $crlf + 'Content-Length: 18446744073709551615' + $crlf + $crlf
    $out = [Text.Encoding]::ASCII.GetBytes($q)
    $ssl.Write($out, 0, $out.Length); $ssl.Flush()
    $buf = New-Object byte[] 4096; $n = 0; $head = ''
    do {
      $got = $ssl.Read($buf, $n, $buf.Length - $n); $n += $got
      $head = [Text.Encoding]::ASCII.GetString($buf, 0, $n)
    } while ($got -gt 0 -and $n -lt $buf.Length -and -not $head.Contains($crlf + $crlf))
    $status = ($head -split $crlf)[0]
    if ($status -notmatch '^HTTP/1\.1 200') { throw "$ip port $port does not answer SSTP_DUPLEX_POST with 200: '$status'" }
  } finally { $ssl.Dispose(); $tcp.Close() }
}
function Ascii-Json($o) {
  $sb = New-Object Text.StringBuilder
  foreach ($ch in ($o | ConvertTo-Json -Compress).ToCharArray()) {
    if ([int]$ch -lt 128) { [void]$sb.Append($ch) } else { [void]$sb.Append(('\u{0:x4}' -f [int]$ch)) }
  }
  return $sb.ToString()
}
)ps";

// The steps. Each "# step:" comment marks where a stage begins (the tests check their order).
constexpr std::string_view script_steps = R"ps(
$snap = $null; $old4 = $null; $old6 = $null; $mutated = $false; $port = 443; $locked = $false
$mutex = New-Object Threading.Mutex($false, 'Global\certfleet-rras-deploy')
try {
  # step: preflight
  $R.stage = 'preflight'
  $me = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
  if (-not $me.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { throw 'the script needs an elevated administrator or LocalSystem' }
  try { $locked = $mutex.WaitOne([TimeSpan]::FromSeconds($SvcTimeoutSec)) } catch [Threading.AbandonedMutexException] { $locked = $true }
  if (-not $locked) { throw 'another certfleet RRAS deployment is still running on this server' }
  # step: import
  $R.stage = 'import'
  $line = [Console]::In.ReadLine()
  if ($line -eq $null) { $line = '' }
  $pw = New-Object Security.SecureString
  foreach ($c in $line.ToCharArray()) { $pw.AppendChar($c) }
  $pw.MakeReadOnly(); $line = $null
  $flags = [Security.Cryptography.X509Certificates.X509KeyStorageFlags]'MachineKeySet, PersistKeySet'
  $leaf = New-Object Security.Cryptography.X509Certificates.X509Certificate2([IO.File]::ReadAllBytes($PfxPath), $pw, $flags)
  if (-not $leaf.HasPrivateKey) { throw 'the PFX has no private key' }
  if ($leaf.NotAfter -lt (Get-Date)) { throw "the certificate expired on $($leaf.NotAfter.ToString('u'))" }
  if ((H1 $leaf.RawData) -ne $NewSha1Hex -or (H256 $leaf.RawData) -ne $NewSha256Hex) { throw 'the PFX holds another certificate than the expected one' }
  if ($FriendlyName) { $leaf.FriendlyName = $FriendlyName }
  $my = New-Object Security.Cryptography.X509Certificates.X509Store('My', 'LocalMachine')
  $my.Open('ReadWrite'); $my.Add($leaf); $my.Close()
  $others = @((Get-PfxData -FilePath $PfxPath -Password $pw).OtherCertificates)
  $ca = New-Object Security.Cryptography.X509Certificates.X509Store('CA', 'LocalMachine')
  $ca.Open('ReadWrite')
  foreach ($o in $others) { if ($o -and $o.Subject -ne $o.Issuer) { $ca.Add($o) } }
  $ca.Close()
  # step: backup
  $R.stage = 'backup'
  $snap = Snap-Reg
  if ($snap.UseHttps -and [int]$snap.UseHttps.Val -eq 0) { throw 'UseHttps is 0 (TLS offload): the certificate belongs on the load balancer' }
  if ($snap.ListenerPort) { $port = [int]$snap.ListenerPort.Val }
  $v4 = "0.0.0.0:$port"; $v6 = "[::]:$port"
  $old4 = Get-Bind $v4; $old6 = Get-Bind $v6
  $sni = Read-Bind ('hostnameport=' + $ProbeHost + ':' + $port)
  if ($sni -and $sni.Hash -ne $NewSha1Hex) { throw "an SNI binding for $($ProbeHost):$port (certificate $($sni.Hash)) shadows the SSTP binding: delete it (netsh http delete sslcert hostnameport=$($ProbeHost):$port) or bind it to the new certificate" }
  if ($snap.SHA1CertificateHash) { $R.old_thumbprint = Hex $snap.SHA1CertificateHash.Val }
  # step: registry
  $R.stage = 'registry'
  $k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($KeyPath, $true)
  if (-not $k) { throw 'the SstpSvc Parameters key is missing (is RRAS installed?)' }
  $mutated = $true
  $k.SetValue('SHA256CertificateHash', $NewSha256, 'Binary')
  $k.SetValue('SHA1CertificateHash', $NewSha1, 'Binary')
  $k.SetValue('isHashConfiguredByAdmin', 1, 'DWord')
  $k.Close()
  # step: bind
  $R.stage = 'bind'
  $app4 = $AppId; if ($old4 -and $old4.AppId) { $app4 = $old4.AppId }
  $app6 = $AppId; if ($old6 -and $old6.AppId) { $app6 = $old6.AppId }
  Set-Bind $v4 $NewSha1Hex $app4
  Set-Bind $v6 $NewSha1Hex $app6
  # step: restart
  $R.stage = 'restart'
  Restart-Sstp
  # step: verify
  $R.stage = 'verify'
  $now = Snap-Reg
  if (-not $now.SHA256CertificateHash -or $now.SHA256CertificateHash.Kind -ne 'Binary' -or (Hex $now.SHA256CertificateHash.Val) -ne $NewSha256Hex) { throw 'SHA256CertificateHash does not read back' }
  if (-not $now.SHA1CertificateHash -or $now.SHA1CertificateHash.Kind -ne 'Binary' -or (Hex $now.SHA1CertificateHash.Val) -ne $NewSha1Hex) { throw 'SHA1CertificateHash does not read back' }
  if (-not $now.isHashConfiguredByAdmin -or [int]$now.isHashConfiguredByAdmin.Val -ne 1) { throw 'isHashConfiguredByAdmin does not read back as 1' }
  foreach ($b in @($v4, $v6)) {
    $got = Get-Bind $b
    if (-not $got -or $got.Hash -ne $NewSha1Hex) { throw "the binding $b does not carry the new certificate (RasSstp events 25/32?)" }
  }
  foreach ($s in @('SstpSvc', 'RasMan', 'RemoteAccess')) {
    if ((Get-Service $s).Status -ne 'Running') { throw "the service $s is not running" }
  }
  $watch = [Diagnostics.Stopwatch]::StartNew()
  while (-not (Get-NetTCPConnection -LocalPort $port -State Listen -ErrorAction SilentlyContinue)) {
    if ($watch.Elapsed.TotalSeconds -gt $ListenTimeoutSec) { throw "nothing listens on port $port" }
    Start-Sleep -Seconds 2
  }
  Probe '127.0.0.1' $port
  Probe '::1' $port
  $R.ok = $true
  $R.stage = 'done'
  $R.message = 'the new certificate is in service'
} catch {
  $R.message = "$($R.stage): $($_.Exception.Message)"
  # step: rollback
  if ($mutated) {
    try {
      Restore-Reg $snap
      $h4 = $null; $a4 = $null; if ($old4) { $h4 = $old4.Hash; $a4 = $old4.AppId }
      $h6 = $null; $a6 = $null; if ($old6) { $h6 = $old6.Hash; $a6 = $old6.AppId }
      Set-Bind "0.0.0.0:$port" $h4 $a4
      Set-Bind "[::]:$port" $h6 $a6
      Restart-Sstp
      $R.rolled_back = $true
      $R.message += ' (the previous values and bindings were restored)'
    } catch { $R.message += " | rollback failed: $($_.Exception.Message)" }
  }
}
# step: cleanup
if ($R.ok -and $RemoveOld -and $R.old_thumbprint -and $R.old_thumbprint -ne $NewSha1Hex) {
  try {
    $all = ((& netsh http show sslcert 2>&1) -join "`n").ToLower()
    if ($all.Contains($R.old_thumbprint)) {
      $R.message += '; the old certificate stays: an HTTP.SYS binding still uses it'
    } else {
      $my = New-Object Security.Cryptography.X509Certificates.X509Store('My', 'LocalMachine')
      $my.Open('ReadWrite')
      foreach ($c in @($my.Certificates.Find('FindByThumbprint', $R.old_thumbprint, $false))) { $my.Remove($c) }
      $my.Close()
      $R.message += '; the old certificate was removed'
    }
  } catch { $R.message += "; the old certificate could not be removed: $($_.Exception.Message)" }
}
if ($locked) { $mutex.ReleaseMutex() }
$mutex.Dispose()
[Console]::Out.WriteLine((Ascii-Json ([pscustomobject]$R)))
[Console]::Out.Flush()
if ($R.ok) { exit 0 } elseif ($R.rolled_back) { exit 1 } else { exit 2 }
)ps";

bool is_lower_hex(std::string_view s, std::size_t length) noexcept
{
    return s.size() == length && std::ranges::all_of(s, [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string base64(std::string_view in)
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const auto byte = [&](std::size_t k) {
            return k < in.size() ? static_cast<unsigned char>(in[k]) : 0u;
        };
        const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? alphabet[v & 63] : '=';
    }
    return out;
}

// `[byte[]](0x12, 0xab, ...)`; `hex` is validated.
std::string byte_array(std::string_view hex)
{
    std::string out = "[byte[]](";
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        out += (i == 0 ? "0x" : ", 0x") + std::string(hex.substr(i, 2));
    }
    return out + ")";
}

// A text value: base64 of its UTF-8 in a single-quoted literal (the base64 alphabet has no
// quote), decoded at run time.
std::string text(std::string_view value)
{
    return "(Decode-Text '" + base64(value) + "')";
}

std::string check_input(const rras_script_input& in)
{
    const auto in_range = [](std::chrono::seconds s) {
        return s.count() >= 1 && s.count() <= 3600;
    };
    if (!is_lower_hex(in.sha1_hex, 40))
        return "sha1_hex is not 40 lower-case hex digits";
    if (!is_lower_hex(in.sha256_hex, 64))
        return "sha256_hex is not 64 lower-case hex digits";
    if (in.pfx_path.empty())
        return "no PFX path";
    if (in.probe_host.empty())
        return "no probe host";
    if (!in_range(in.service_timeout) || !in_range(in.listen_timeout)) {
        return "a timeout is outside 1..3600 seconds";
    }
    return {};
}

} // namespace

boost::system::result<std::string> render_rras_script(const rras_script_input& in)
{
    if (!check_input(in).empty())
        return make_error_code(errc::invalid_target_options);
    std::string s = "# certfleet: RRAS/SSTP certificate deployment (rendered, do not edit)\n"
                    "function Decode-Text([string]$b) { return "
                    "[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($b)) }\n";
    s += "$PfxPath = " + text(in.pfx_path) + "\n";
    s += "$FriendlyName = " + text(in.friendly_name) + "\n";
    s += "$ProbeHost = " + text(in.probe_host) + "\n";
    s += "$NewSha1 = " + byte_array(in.sha1_hex) + "\n";
    s += "$NewSha256 = " + byte_array(in.sha256_hex) + "\n";
    s += "$NewSha1Hex = '" + in.sha1_hex + "'\n";
    s += "$NewSha256Hex = '" + in.sha256_hex + "'\n";
    s += "$SvcTimeoutSec = " + std::to_string(in.service_timeout.count()) + "\n";
    s += "$ListenTimeoutSec = " + std::to_string(in.listen_timeout.count()) + "\n";
    s += std::string("$RemoveOld = ") + (in.remove_old_certificate ? "$true" : "$false") + "\n";
    s += script_functions;
    s += script_steps;
    return s;
}

namespace {

std::string string_field(const nlohmann::json& j, const char* name)
{
    const auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

target_result parse_rras_result(std::string_view text) noexcept
{
    try {
        std::size_t end = text.size();
        while (end > 0) {
            const auto begin = text.rfind('\n', end - 1);
            const auto from = begin == std::string_view::npos ? 0 : begin + 1;
            auto j = nlohmann::json::parse(text.substr(from, end - from), nullptr, false);
            end = from == 0 ? 0 : from - 1;
            if (!j.is_object() || !j.contains("ok") || !j["ok"].is_boolean())
                continue;
            target_result r{
                .ok = j["ok"].get<bool>(),
                .stage = string_field(j, "stage"),
                .message = string_field(j, "message")};
            r.rolled_back = j.value("rolled_back", nlohmann::json(false)).is_boolean() &&
                            j.value("rolled_back", false);
            for (const auto* k : {"ok", "stage", "message", "rolled_back"})
                j.erase(k);
            r.details = std::move(j);
            return r;
        }
    } catch (...) {
    }
    return {
        .ok = false,
        .stage = "output",
        .message = "the RRAS script printed no result line",
        .rolled_back = false};
}

} // namespace certfleet::deploy
