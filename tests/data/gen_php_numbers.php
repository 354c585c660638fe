<?php
// Generates php_numbers.tsv: input \t expected fk__json_put_number(PHP style)
// output \t what PHP itself writes (json_encode(json_decode(input, true))).
// Expected is PHP's output when that output denotes exactly the input's
// decimal value, otherwise the input unchanged (libfortknox never loses a
// value). The exactness check below is deliberately written independently
// of the C code: plain string normalisation to (sign, digits, exponent).
// Run: php gen_php_numbers.php > php_numbers.tsv
ini_set('serialize_precision', '-1');
mt_srand(20240917);

function norm(string $s): ?array {
    if (!preg_match('/^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/', $s, $m)) return null;
    $digits = $m[2] . ($m[3] ?? '');
    $exp = (int)($m[4] ?? '0') - strlen($m[3] ?? '');
    $t = ltrim($digits, '0');
    if ($t === '') return ['0', '', 0];
    $r = rtrim($t, '0');
    $exp += strlen($t) - strlen($r);
    return [$m[1], $r, $exp];
}

function rnd_double(): float {
    for (;;) {
        $b = '';
        for ($i = 0; $i < 8; $i++) $b .= chr(mt_rand(0, 255));
        $d = unpack('E', $b)[1];
        if (is_finite($d)) return $d;
    }
}

$in = [
    '0', '-0', '1', '-1', '10', '100', '123', '-123', '9223372036854775807', '-9223372036854775808',
    '9223372036854775808', '-9223372036854775809', '9223372036854775806', '18446744073709551616',
    '12345678901234567890', '12345678901234567000', '1000000000000000000000', '10000000000000000000000000',
    '0.0', '-0.0', '0.00', '0e5', '-0e0', '0E-7', '0.0e+10', '-0.000',
    '0.1', '0.10', '0.1000', '-0.1', '0.2', '0.3', '0.30000000000000004', '0.1000000000000000000001',
    '0.0300', '0.03', '-12.50', '100.000', '100000.5', '1.5', '2.5', '3.14159', '2.718281828459045',
    '0.0001', '0.00010', '0.00001', '0.000123', '0.00012345', '1e-4', '1e-5', '1.5e-7', '1.5E-7', '15e-8',
    '1e0', '1E0', '1e+0', '1e-0', '1e1', '1e15', '1e16', '1e17', '1e18', '1e21', '1e22', '1e23', '1e300', '1e308',
    '1.7976931348623157e308', '1.7976931348623158e308', '1.8e308', '1e309', '1e400', '-1e400',
    '5e-324', '4.9e-324', '4.9406564584124654e-324', '2.2250738585072014e-308', '2.225073858507201e-308',
    '1e-320', '1e-400', '-1e-400', '123456789012345678', '1234567890123456789', '12345678901234567',
    '123456789012345678.0', '1.2345678901234567e19', '1.2345678901234567e+19', '1.23456789012345678e19',
    '9007199254740992', '9007199254740993', '9007199254740993.0', '9007199254740992.0', '9.007199254740992e15',
    '1.0', '10.0', '-10.0', '1.0e2', '1.00e+2', '12.5e1', '0.125e3', '99999999999999999', '99999999999999999.0',
    '9999999999999999.0', '1e-3', '0.001', '0.0012', '1.2e-3', '12e-4', '0.000999', '99.99e-6',
    '100000000000000000', '100000000000000000.0', '10000000000000000.0', '123456789012345680000',
    '1.5e10', '1.5E+10', '-2.5e-5', '6.02214076e23', '6.62607015e-34', '1e-7', '1e-10', '0.5', '-0.5',
    '3.0000000000000000000', '3.00000000000000000001', '1e0000000000000000000000', '1e-0000000000000000000003',
    '1e99999999999999999999', '1e-99999999999999999999', '0.000000000000000000000000000000001e33',
];
foreach ([-1074, -1073, -1022, -1021, -1017, -1000, -900, -500, -100, -60, -53, -52, -1, 0, 1, 52, 53, 63, 64, 100, 500, 1000, 1023] as $e) {
    $d = 2.0 ** $e;
    $in[] = json_encode($d);
    $in[] = sprintf('%.17e', $d);
    $in[] = sprintf('%.20e', $d);
}
for ($e = -1074; $e <= 1023; $e += 7) $in[] = json_encode(2.0 ** $e);
for ($i = 0; $i < 600; $i++) {
    $d = rnd_double();
    $s = json_encode($d);
    $in[] = $s; // PHP's own shortest form: always exact
    $n = norm($s);
    // Same value written differently: plain fixed-point, 'E', trailing zeros.
    if (abs($n[2]) < 40) {
        $dig = $n[1]; $e = $n[2];
        $fix = $e >= 0 ? $dig . str_repeat('0', $e) . '.0'
                       : (strlen($dig) > -$e ? substr($dig, 0, strlen($dig) + $e) . '.' . substr($dig, $e)
                                             : '0.' . str_repeat('0', -$e - strlen($dig)) . $dig);
        $in[] = $n[0] . $fix;
    }
    $in[] = $n[0] . $n[1] . '0E' . ($n[2] - 1);
    $in[] = $n[0] . substr($n[1], 0, 1) . '.' . (strlen($n[1]) > 1 ? substr($n[1], 1) : '0') . '000e' . ($n[2] + strlen($n[1]) - 1);
    $in[] = sprintf('%.17e', $d);   // 18 significant digits: usually raw
    $in[] = sprintf('%.16e', $d);   // 17: sometimes exact
}
for ($i = 0; $i < 300; $i++) {
    // Decimal-looking data as PostgreSQL numeric would print it.
    $int = (string)mt_rand(0, 10 ** mt_rand(0, 9));
    $frac = str_pad((string)mt_rand(0, 10 ** ($l = mt_rand(1, 12)) - 1), $l, '0', STR_PAD_LEFT);
    $in[] = (mt_rand(0, 3) ? '' : '-') . $int . '.' . $frac;
    $in[] = (mt_rand(0, 1) ? '' : '-') . mt_rand(1, 9) . str_repeat((string)mt_rand(0, 9), mt_rand(15, 24));
    $in[] = mt_rand(1, 9) . '.' . mt_rand(0, 999999) . 'e' . (mt_rand(0, 1) ? '-' : '+') . mt_rand(0, 330);
}
$seen = [];
foreach ($in as $x) {
    if (isset($seen[$x])) continue;
    $seen[$x] = 1;
    $php = json_encode(json_decode($x, true));
    if (json_last_error() !== JSON_ERROR_NONE) $php = 'ERROR';
    $a = norm($x);
    $b = $php === 'ERROR' ? null : norm($php);
    if ($a === null) { fwrite(STDERR, "bad input $x\n"); exit(1); }
    $exact = $b !== null && ($a[1] === '' ? $b[1] === '' : $a === $b);
    echo $x, "\t", $exact ? $php : $x, "\t", $php, "\n";
}
