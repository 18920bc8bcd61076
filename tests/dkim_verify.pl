#!/usr/bin/perl
# Verify the DKIM signatures of the message on stdin with Mail::DKIM, a second implementation
# besides dkimpy, looking keys up only at the given DNS server (tests/dns_server.py).
#
#   perl tests/dkim_verify.pl 127.0.0.1 PORT < message.eml
#
# Prints "<result> d=<domain> s=<selector> a=<algorithm> <details>" per signature, then
# "overall <result> <details>"; exits 0 only if the overall result is "pass".
use strict;
use warnings;

use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

@ARGV == 2 or die "usage: $0 DNS_HOST DNS_PORT < message\n";
my ($host, $port) = @ARGV;

# Only the test server, never /etc/resolv.conf; no search domains; fail fast on no answer.
my $res = Net::DNS::Resolver->new(
    nameservers => [$host],
    port        => $port,
    recurse     => 1,
    defnames    => 0,
    dnsrch      => 0,
    retry       => 1,
    udp_timeout => 3,
    tcp_timeout => 3,
);
Mail::DKIM::DNS::resolver($res);
$Mail::DKIM::DNS::TIMEOUT = 5;

binmode STDIN;
my $message = do { local $/; <STDIN> };
# Mail::DKIM wants SMTP line endings; only fix a message that has none, so that a message
# with CRLF is verified byte for byte as it was sent.
$message =~ s/\n/\r\n/g unless $message =~ /\r\n/;

my $dkim = Mail::DKIM::Verifier->new();
$dkim->PRINT($message);
$dkim->CLOSE();

# "fail (body has been altered)" -> "(body has been altered)"
sub details {
    my ($result, $detail) = @_;
    $detail = '' unless defined $detail;
    $detail =~ s/^\Q$result\E\s*//;
    return $detail;
}

for my $sig ($dkim->signatures) {
    my $result = $sig->result // 'none';
    printf "%s d=%s s=%s a=%s %s\n", $result, $sig->domain // '', $sig->selector // '',
        $sig->algorithm // '', details($result, $sig->result_detail);
}
my $overall = $dkim->result // 'none';
printf "overall %s %s\n", $overall, details($overall, $dkim->result_detail);
exit($overall eq 'pass' ? 0 : 1);
