import java.net.InetAddress;
import java.net.UnknownHostException;

/** The reference for the JVM's dialling order: each argument's InetAddress.getAllByName,
 *  one line per name ("name addr addr ..." or "name -" when it does not resolve). */
public class JvmOrder {
    public static void main(String[] args) {
        for (String name : args) {
            StringBuilder line = new StringBuilder(name);
            try {
                for (InetAddress address : InetAddress.getAllByName(name)) {
                    line.append(' ').append(address.getHostAddress());
                }
            } catch (UnknownHostException e) {
                line.append(" -");
            }
            System.out.println(line);
        }
    }
}
