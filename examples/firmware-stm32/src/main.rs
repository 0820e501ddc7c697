//! NUCLEO-F429ZI: DHCP over the on-board Ethernet (LAN8742A, RMII), then one Slack
//! `oauth.v2.access` code exchange with picoauth-embassy, certificate-verified TLS 1.3,
//! and no global allocator: RSA and ECDSA chains are verified without a heap.
//!
//! Build-time settings (environment variables, all optional):
//! `PICOAUTH_HOST` (default `slack.com`), `PICOAUTH_SLACK_CLIENT_ID`,
//! `PICOAUTH_SLACK_CLIENT_SECRET`, `PICOAUTH_SLACK_CODE`. The trust anchors are the
//! real roots of slack.com (ISRG Root X1) and api.pinterest.com (DigiCert Global Root
//! G2), from `picoauth_embassy::anchors`.
#![no_std]
#![no_main]

use defmt::{info, unwrap, warn};
use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use embassy_stm32::rng::{self, Rng};
use embassy_stm32::time::Hertz;
use embassy_stm32::{bind_interrupts, eth, peripherals};
use embassy_time::Instant;
use picoauth::exchange::{Outcome, Token};
use picoauth::provider::{Endpoint, SLACK_V2};
use picoauth::request::{ClientAuth, Grant, TokenRequest};
use picoauth_embassy::{Storage, UnixClock};
use static_cell::{ConstStaticCell, StaticCell};
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<peripherals::RNG>;
});

type Device = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

const fn env_or(v: Option<&'static str>, default: &'static str) -> &'static str {
    match v {
        Some(v) => v,
        None => default,
    }
}

const HOST: &str = env_or(option_env!("PICOAUTH_HOST"), "slack.com");
const CLIENT_ID: &str = env_or(option_env!("PICOAUTH_SLACK_CLIENT_ID"), "111.222");
const CLIENT_SECRET: &str = env_or(option_env!("PICOAUTH_SLACK_CLIENT_SECRET"), "secret");
const CODE: &str = env_or(option_env!("PICOAUTH_SLACK_CODE"), "code-from-the-redirect");

/// The build time plus the uptime: enough for an example. A product reads the RTC
/// (kept by the backup battery) or sets it from SNTP before the first exchange.
struct BuildTimeClock;

impl UnixClock for BuildTimeClock {
    fn now() -> u64 {
        const BUILD: u64 = parse_u64(env!("PICOAUTH_BUILD_UNIX_TIME"));
        BUILD.saturating_add(Instant::now().as_secs())
    }
}

const fn parse_u64(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n: u64 = 0;
    while i < b.len() {
        n = n * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    n
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Device>) -> ! {
    runner.run().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let mut config = embassy_stm32::Config::default();
    {
        use embassy_stm32::rcc::*;
        // 8 MHz from the ST-LINK's MCO; SYSCLK 168 MHz, 48 MHz for the RNG.
        config.rcc.hse = Some(Hse {
            freq: Hertz(8_000_000),
            mode: HseMode::Bypass,
        });
        config.rcc.pll_src = PllSource::HSE;
        config.rcc.pll = Some(Pll {
            prediv: PllPreDiv::DIV4,
            mul: PllMul::MUL168,
            divp: Some(PllPDiv::DIV2),
            divq: Some(PllQDiv::DIV7),
            divr: None,
        });
        config.rcc.ahb_pre = AHBPrescaler::DIV1;
        config.rcc.apb1_pre = APBPrescaler::DIV4;
        config.rcc.apb2_pre = APBPrescaler::DIV2;
        config.rcc.sys = Sysclk::PLL1_P;
    }
    let p = embassy_stm32::init(config);
    info!("picoauth firmware: boot");

    let mut rng = Rng::new(p.RNG, Irqs);
    let mut seed = [0; 8];
    unwrap!(rng.async_fill_bytes(&mut seed).await);

    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::<4, 4>::new()),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        [0x02, 0x00, 0x00, 0x29, 0xf4, 0x29],
        p.ETH_SMA,
        p.PA2,
        p.PC1,
    );

    static RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        u64::from_le_bytes(seed),
    );
    spawner.spawn(unwrap!(net_task(runner)));
    stack.wait_config_up().await;
    info!("picoauth firmware: network up");

    // 28,928 bytes of buffers in .bss, not on a stack.
    static STORAGE: ConstStaticCell<Storage> = ConstStaticCell::new(Storage::new());
    let storage = STORAGE.take();
    let (buffers, buf) = storage.split();

    let provider = SLACK_V2.with_endpoint(Endpoint::https(HOST, "/api/oauth.v2.access"));
    let req = TokenRequest::new(
        &provider,
        ClientAuth::basic(CLIENT_ID, CLIENT_SECRET.into()),
        Grant::authorization_code(CODE),
    );
    let auth = picoauth_embassy::Config::new(
        picoauth_embassy::anchors::SLACK_AND_PINTEREST,
        BuildTimeClock,
    );
    match picoauth_embassy::exchange(stack, &req, &auth, buffers, &mut rng, buf).await {
        Ok(Outcome::Token {
            token: Token::SlackV2(t),
            ..
        }) => info!(
            "picoauth firmware: got Slack tokens (bot token present: {})",
            t.access_token.is_some()
        ),
        Ok(other) => warn!(
            "picoauth firmware: provider answered HTTP {}",
            other.status()
        ),
        Err(e) => warn!("picoauth firmware: exchange failed: {}", e),
    }
}
